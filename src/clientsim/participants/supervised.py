"""The simulated customer of seed 003's multi-turn mode, speaking as a
:class:`~clientsim.participants.supervisor.Supervisor` decides, and the termination
strategy that ends the conversation when the supervisor (or ``max_turns``) says so.
"""

from __future__ import annotations

from typing import Final, final

from clientsim.errors import ConfigError, ParticipantError
from clientsim.models import (
    Conversation,
    Ending,
    Message,
    ParticipantRole,
    TokenUsage,
)
from clientsim.participants.base import Participant
from clientsim.participants.supervisor import (
    Supervisor,
    SupervisorDecision,
)
from clientsim.participants.timing import Pacer, TypingModel, default_typing, landed
from clientsim.termination.base import TerminationContext


__all__ = ["SupervisorParticipant", "SupervisorTermination"]

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_NO_USAGE: Final = TokenUsage()


@final
class SupervisorParticipant(Participant):
    """The simulated customer, speaking as a :class:`Supervisor` decides.

    The runner sends the first customer message (``initial_message``); after each
    agent reply the participant asks the supervisor: ``continue`` proposes the next
    message, ``terminate`` proposes the closing message (if any) and then passes for
    good. Messages are stamped after the last one with the customer's typing model.

    * While the last message is the customer's (the agent has not answered yet) it
      passes without asking the supervisor, so no decision is spent on a half turn.
    * A proposal the runner discarded (the agent spoke first) is proposed again
      instead of asking the supervisor again, so no scripted question is lost.
    * With ``max_turns``, once the conversation has that many customer messages and
      the agent has answered the last, it stops without asking and its final
      decision is ``terminate`` with the reason ``"max_turns"``.
    * In an empty conversation (no ``initial_message``) the supervisor is asked for
      the opening message.

    Pair it with :class:`SupervisorTermination` so the run ends with the reason
    ``"supervisor"`` or ``"max_turns"``.

    Example:
        >>> from clientsim.participants.supervised import SupervisorParticipant
        >>> from clientsim.participants.supervisor import MockSupervisor
        >>> customer = SupervisorParticipant(MockSupervisor(["Any refunds?"]), max_turns=8)
        >>> customer.max_turns, customer.finished, customer.final_decision
        (8, False, None)

    Args:
        supervisor: decides what the customer does.
        max_turns: the most turns (customer message + agent reply) in the
            conversation, the runner's first message included; ``None`` for no cap.
        seed: seeds the simulated typing time.
        typing: the typing model; the customer's default if ``None``.

    Raises:
        ConfigError: ``supervisor`` is not a supervisor, or ``max_turns`` is not an
            int >= 1.
    """

    role: Final = _CUSTOMER

    def __init__(
        self,
        supervisor: Supervisor,
        *,
        max_turns: int | None = None,
        seed: int = 0,
        typing: TypingModel | None = None,
    ) -> None:
        if not callable(getattr(supervisor, "decide", None)):
            raise ConfigError(
                "supervisor must have an async decide(conversation) method (an "
                f"LLMSupervisor, a MockSupervisor or your own); got {supervisor!r}"
            )
        if max_turns is not None and (
            isinstance(max_turns, bool)
            or not isinstance(max_turns, int)
            or max_turns < 1
        ):
            raise ConfigError(
                f"max_turns must be None or an int >= 1; got {max_turns!r}"
            )
        self.supervisor = supervisor
        self.max_turns = max_turns
        self.decisions: list[SupervisorDecision] = []
        """Every decision the supervisor made, in order."""
        self.final_decision: SupervisorDecision | None = None
        """The decision that ended the customer's part (the supervisor's, or the
        ``max_turns`` cap's), once there is one."""
        self._capped = False
        self._done = False
        self._pending: Message | None = None
        self._pending_at = 0
        self._pacer = Pacer(_CUSTOMER, typing or default_typing(_CUSTOMER), seed)

    @property
    def token_usage(self) -> TokenUsage:
        """The supervisor's token usage."""
        usage = getattr(self.supervisor, "token_usage", None)
        return usage if isinstance(usage, TokenUsage) else _NO_USAGE

    @property
    def finished(self) -> bool:
        """``True`` once the customer has said its last message (or had none)."""
        return self._done

    @property
    def capped(self) -> bool:
        """``True`` if the ``max_turns`` cap, not the supervisor, ended the talk."""
        return self._capped

    def turn_cap_reached(self, conversation: Conversation) -> bool:
        """Whether ``conversation`` has used up ``max_turns`` (agent reply included)."""
        last = conversation.last_message
        return (
            self.max_turns is not None
            and last is not None
            and last.sender is not _CUSTOMER
            and _customer_messages(conversation) >= self.max_turns
        )

    def ended(self, conversation: Conversation) -> SupervisorDecision | None:
        """The final decision if the customer is done in ``conversation``, else ``None``.

        Done means: the supervisor (or the cap) decided to terminate and the closing
        message, if any, is in the conversation.
        """
        decision = self.final_decision
        if decision is None:
            return None
        if self._done:
            return decision
        pending = self._pending
        if pending is not None and landed(pending, conversation, self._pending_at):
            return decision
        return None

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        pending = self._pending
        if pending is not None and landed(pending, conversation, self._pending_at):
            self._pending = None
            self._done = self.final_decision is not None
        last = conversation.last_message
        if self._done or (last is not None and last.sender is _CUSTOMER):
            return None  # finished, or the agent has not answered yet
        if self._pending is not None:  # discarded by the runner: offer it again
            return self._propose(conversation, self._pending.content)
        if self.turn_cap_reached(conversation):
            self.cap()
            return None
        return await self._ask(conversation)

    def cap(self) -> SupervisorDecision:
        """End the talk on the ``max_turns`` cap: :attr:`final_decision` becomes
        ``terminate`` with the reason ``"max_turns"`` and :attr:`capped` is true."""
        self.final_decision = SupervisorDecision.terminate("max_turns")
        self._capped = self._done = True
        return self.final_decision

    async def _ask(self, conversation: Conversation) -> Message | None:
        decision = await self.supervisor.decide(conversation)
        if not isinstance(decision, SupervisorDecision):
            raise ParticipantError(
                f"{type(self.supervisor).__name__}.decide returned "
                f"{type(decision).__name__}; it must return a SupervisorDecision",
                conversation=conversation,
            )
        self.decisions.append(decision)
        if decision.action == "continue":
            assert decision.next_message is not None  # noqa: S101 - the model checks it
            return self._propose(conversation, decision.next_message)
        self.final_decision = decision
        if decision.closing and decision.closing.strip():
            return self._propose(conversation, decision.closing)
        self._done = True
        return None

    def _propose(self, conversation: Conversation, content: str) -> Message:
        message = self._pacer.stamp(conversation, content)
        self._pending = message
        self._pending_at = len(conversation.messages)
        return message


def _customer_messages(conversation: Conversation) -> int:
    return sum(m.sender is _CUSTOMER for m in conversation.messages)


@final
class SupervisorTermination:
    """Ends the conversation when a :class:`SupervisorParticipant` is done.

    :meth:`check` returns ``Ending(reason="supervisor", detail=<the decision's
    reason>)`` once the supervisor has decided to terminate and the closing message
    (if any) is in the conversation, and ``Ending(reason="max_turns")`` as soon as
    the agent has answered the ``max_turns``-th customer message (with a real agent
    that sends a burst of messages, after the first of them).

    It has no ``token_usage``: the supervisor's tokens are the customer's.

    A ``terminate`` decision without a closing message leaves the customer passing;
    a runner ends that conversation with ``"both_passed"`` before any strategy is
    asked again, so give the supervisor a closing message if the ending's reason
    matters (the mock supervisor has one by default).

    Example:
        >>> import anyio
        >>> from clientsim import (FullSimulationRunner, LLMParticipant, MessageDraft,
        ...     Outcome, Outcomes, ParticipantRole)
        >>> from clientsim.participants.supervised import (SupervisorParticipant,
        ...     SupervisorTermination)
        >>> from clientsim.participants.supervisor import MockSupervisor
        >>> customer = SupervisorParticipant(MockSupervisor(["Any refunds?"]))
        >>> runner = FullSimulationRunner(
        ...     customer=customer,
        ...     agent=LLMParticipant(ParticipantRole.AGENT, "offline"),
        ...     initial_message=MessageDraft("Hi, I bought a lamp.", ParticipantRole.CUSTOMER),
        ...     intent=None,
        ...     outcomes=Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),)),
        ...     termination=SupervisorTermination(customer),
        ... )
        >>> result = anyio.run(runner.run)
        >>> for message in result.conversation.messages:
        ...     print(f"{message.sender.value}: {message.content}")
        customer: Hi, I bought a lamp.
        agent: Thanks for reaching out! Could you tell me a bit more about the problem?
        customer: Any refunds?
        agent: I'm sorry about that. Could you give me the order number?
        customer: Thanks for the help. I have no further questions.
        >>> result.ending.reason, result.ending.detail
        ('supervisor', 'script_complete')

    Args:
        participant: the customer participant to watch.

    Raises:
        ConfigError: ``participant`` is not a :class:`SupervisorParticipant`.
    """

    def __init__(self, participant: SupervisorParticipant) -> None:
        if not isinstance(participant, SupervisorParticipant):
            raise ConfigError(
                "SupervisorTermination watches a SupervisorParticipant; got "
                f"{type(participant).__name__}"
            )
        self.participant = participant

    async def check(self, context: TerminationContext) -> Ending | None:
        """``supervisor`` or ``max_turns`` when the participant is done, else ``None``."""
        conversation = context.conversation
        participant = self.participant
        count = len(conversation.messages)
        decision = participant.ended(conversation)
        if decision is not None and not participant.capped:
            return Ending(
                reason="supervisor",
                detail=decision.reason or "the supervisor ended the conversation",
                message_count=count,
            )
        if decision is None and participant.turn_cap_reached(conversation):
            decision = participant.cap()  # the participant's record says so too
        if decision is not None:
            return Ending(
                reason="max_turns",
                detail=f"reached the limit of {participant.max_turns} turns (a customer "
                "message and the agent's reply each)",
                message_count=count,
            )
        return None
