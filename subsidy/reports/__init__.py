"""The annual report: figures counted from the records, the plans' progress, and the counties' yearly reports."""
