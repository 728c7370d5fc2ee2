"""GridMonitoring (issue 21): consumer-controlled, audited access to meter data."""
