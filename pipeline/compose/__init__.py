"""Composition: functions that build a stage's real adapters from the plan and the environment."""
