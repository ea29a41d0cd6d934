"""The text forms of decision values, for the checks (decision_values.py) and the OpenAPI document (schemas.py)."""

REJECTED_POSTS_PATTERN = r"^\s*[0-9]{1,2}\s*(,\s*[0-9]{1,2}\s*)*$"
APPROVED_ON_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
