"""msp-audit: audit adult safeguarding case files against Making Safeguarding Personal.

The package is a library first (``audit_cli.api.run_audit``) and a CLI on top
(``audit_cli.cli``). Lower layers never import the CLI.
"""

__version__ = "0.1.0"
