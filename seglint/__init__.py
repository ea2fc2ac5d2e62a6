"""seglint: checks firewall rule sets against the port requirements of Trustwave SEG."""

__version__ = "0.1.0"
