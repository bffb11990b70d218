"""Reports: the pydantic model (model), its assembly from SQL (build), and the files (write)."""
