"""People's files: reading CSV/XLSX as they come from spreadsheets, column specs, writing."""
