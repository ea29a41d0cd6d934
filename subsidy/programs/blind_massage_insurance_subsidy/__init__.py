"""Social insurance subsidy for blind massage practitioners (盲人按摩从业人员社会保险补贴)."""
