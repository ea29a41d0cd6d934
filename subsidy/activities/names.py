"""Activity names: the workflows call activities by name so they never import database code."""

RECORD_ELIGIBILITY = "record_eligibility"
OPEN_TASK = "open_task"
ESCALATE_OVERDUE_TASK = "escalate_overdue_task"
RECORD_DECISION = "record_decision"
CHANGE_STATUS = "change_status"
POST_PAYMENT = "post_payment"
