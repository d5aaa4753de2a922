"""Travel time on the real network: OpenStreetMap roads prepared with OSRM, times to services."""
