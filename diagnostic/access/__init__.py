"""Access to the offer: demand points, white zones, public transport, capacity (2SFCA), siting."""
