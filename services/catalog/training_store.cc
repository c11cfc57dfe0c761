// Filled in by the catalog issue.
