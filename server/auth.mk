# Build fragment: filled in by the module's own commits.
