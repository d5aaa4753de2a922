"""Statistical secrecy: which cells of a confidential indicator may be published.

A *cell* is a count published somewhere: a commune's numerator, a group's (every grouping level)
or the département's, or any other sum of communes a page shows (people in white zones of a
territory, by distance class). Primary secrecy hides every cell from 1 to the threshold − 1.
Secondary suppression then hides more cells, across all levels at once, until a linear-programming
audit of everything published (``audit.feasible_intervals``) leaves each hidden cell an interval of
at least the protection range: an attacker who knows every published figure, that counts are
whole and not negative and, for a share, at most its denominator, cannot narrow a hidden count to
less than that range. Pages and exports all read the same protected set (``protected_cells``).
"""

from diagnostic.secrecy.audit import feasible_intervals
from diagnostic.secrecy.cells import Cells, indicator_cells
from diagnostic.secrecy.suppression import (PROTECTION_RANGE, SOURCE_RULES, Protection, protect, protected_cells,
                                            publishable_sums, source_threshold)

__all__ = ["PROTECTION_RANGE", "SOURCE_RULES", "Cells", "Protection", "feasible_intervals", "indicator_cells",
           "protect", "protected_cells", "publishable_sums", "source_threshold"]
