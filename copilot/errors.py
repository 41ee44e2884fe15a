"""Errors of the copilot layer."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class CopilotError(SalesCopilotError):
    """Root of copilot failures."""

    code = "copilot_error"


class ChatModelConfigError(CopilotError):
    """The configured LangChain chat model cannot be imported or built (bad spec, missing package, bad arguments)."""

    code = "chat_model_config"


class CaseProfileError(CopilotError):
    """A new customer's profile cannot be read (unknown type, a size that is no number); names the field."""

    code = "case_profile"
