"""The rule pages' forms. They only shape input: `rule_create`, `rule_update`, the condition and
action services check every value, so the pages and the API refuse the same things. A service's
error names the setting it is about; each form says which of its inputs shows it."""
