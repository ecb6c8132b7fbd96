"""Trials and the drivers that run them (see trials.base for the contract)."""

from safehub.trials.base import Node, NodeSink, Outcome, Target, Trial, TrialDriver
from safehub.trials.single_turn import SingleTurn

__all__ = ["Node", "NodeSink", "Outcome", "SingleTurn", "Target", "Trial", "TrialDriver"]
