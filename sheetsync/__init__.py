"""sheetsync: distributor APIs to spreadsheets and back."""

__version__ = "0.1.0"
