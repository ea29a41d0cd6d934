"""Over-quota employment reward (超比例安排残疾人就业奖励): an employer's yearly claim for a past year."""
