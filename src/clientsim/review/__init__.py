"""The review pipeline (seed 000): internal and client review stages walked in order."""

from clientsim.review.pipeline import (
    BUILTINS,
    METADATA_KEY,
    ClientReviewStage,
    InternalReviewStage,
    PipelineOutcome,
    ReviewGate,
    ReviewPipeline,
    ReviewStage,
)


__all__ = [
    "BUILTINS",
    "METADATA_KEY",
    "ClientReviewStage",
    "InternalReviewStage",
    "PipelineOutcome",
    "ReviewGate",
    "ReviewPipeline",
    "ReviewStage",
]
