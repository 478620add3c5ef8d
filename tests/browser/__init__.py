"""Browser tests of the operators' web console (`gateway console`), driven by Playwright."""
