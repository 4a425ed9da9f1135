"""Reserved for issue 6 work in progress."""
