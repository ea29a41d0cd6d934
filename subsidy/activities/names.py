"""Activity names: the workflows call activities by name so they never import database code."""

RECORD_ELIGIBILITY = "record_eligibility"
OPEN_TASK = "open_task"
ESCALATE_OVERDUE_TASK = "escalate_overdue_task"
RECORD_DECISION = "record_decision"
CHANGE_STATUS = "change_status"
POST_PAYMENT = "post_payment"
# Shared data the newer programs read and write (subsidy/activities/minimum_wage.py, person_records.py).
MINIMUM_WAGE_ON = "minimum_wage_on"
GRANT_PERSON_RECORDS = "grant_person_records"
RELEASE_PERSON_RECORDS = "release_person_records"
