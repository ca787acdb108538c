"""``python -m audit_cli`` runs the msp-audit command."""

from .cli import main

if __name__ == "__main__":
    main()
