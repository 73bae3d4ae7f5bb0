"""Real API frameworks that tests start in-process, so the tap is checked against their behaviour."""
