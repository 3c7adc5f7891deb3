"""Remote access to the desk: `itsm serve` and the sessions it runs over SSH."""
