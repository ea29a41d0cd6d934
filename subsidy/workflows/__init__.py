"""The shared procedure mechanics (`procedure.py`, `common.py`), the shared messages (`contracts.py`) and the
workflows not yet moved into their program's folder; the list of every workflow class is the program registry's
(`subsidy.programs.registry.WORKFLOW_CLASSES`)."""
