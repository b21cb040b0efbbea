"""Test an agent behind an HTTP endpoint: a simulated customer over HTTPChannel.

This starts a tiny OpenAI-compatible agent server on 127.0.0.1 (a stand-in for yours)
and points a simulated customer at it. Runs offline. To test your own agent, drop the
server and give HTTPChannel your endpoint:

    HTTPChannel(base_url="https://my-agent.example.com/v1", model="support-bot",
                headers={"Authorization": f"Bearer {token}"})
"""

from __future__ import annotations

import re
import time

import anyio
from aiohttp import web

from clientsim import (
    HybridSimulationRunner,
    Intent,
    LLMParticipant,
    OfflineChatModel,
    Outcome,
    Outcomes,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
)
from clientsim.channels import HTTPChannel
from clientsim.termination import ClosingPhrases


def reply_to(text: str) -> str:
    """The stand-in agent: a few rules about orders."""
    lowered = text.lower()
    number = re.search(r"\b(\d{4,})\b", text)
    if "thank" in lowered or "bye" in lowered:
        return "You're welcome, have a great day!"
    if "still" in lowered or "doesn't" in lowered or "human" in lowered:
        return "Sorry about that. I'm escalating this to a specialist who will email you today."
    if number:
        return (
            f"Order {number.group(1)} left our warehouse yesterday; the tracking link is in "
            "your email and it should arrive within two days."
        )
    if any(word in lowered for word in ("order", "package", "delivery", "parcel")):
        return "Sorry for the wait! What's your order number?"
    return "Hi! I'm the shop's assistant. How can I help?"


async def chat_completions(request: web.Request) -> web.Response:
    body = await request.json()
    last = body["messages"][-1]["content"]
    return web.json_response(
        {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "shop-bot"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply_to(last)},
                    "finish_reason": "stop",
                }
            ],
        }
    )


async def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    server = web.AppRunner(app)
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    port = server.addresses[0][1]
    try:
        intent = Intent(ParticipantRole.CUSTOMER, "Find out where my order is")
        async with HTTPChannel(
            base_url=f"http://127.0.0.1:{port}/v1", model="shop-bot"
        ) as channel:
            runner = HybridSimulationRunner(
                customer=LLMParticipant(
                    ParticipantRole.CUSTOMER, OfflineChatModel(seed=1), intent=intent
                ),
                channel=channel,
                intent=intent,
                outcomes=Outcomes(
                    (
                        Outcome("informed", "The customer learned where the order is"),
                        Outcome("escalated", "The case was handed to a specialist"),
                    )
                ),
                outcome_evaluator=RuleBasedOutcomeEvaluator(
                    {
                        "informed": {"patterns": ["tracking link"], "sender": "agent"},
                        "escalated": {"patterns": ["escalat"], "sender": "agent"},
                    }
                ),
                termination=ClosingPhrases(sender="agent"),
                reply_timeout_seconds=5,
                max_messages=16,
            )
            result = await runner.run()
    finally:
        await server.cleanup()
    for message in result.conversation.messages:
        print(f"{message.sender.value:>8}: {message.content}")
    print()
    print(f"Outcome: {result.outcome.name if result.outcome else 'none'}")
    print(f"Ended by: {result.ending.reason if result.ending else '?'}")
    print(f"Real time: {result.duration_seconds:.3f}s")
    if not result.ok:
        print(f"Error ({result.error.side} side): {result.error.message}")
        raise SystemExit(1)


if __name__ == "__main__":
    anyio.run(main)
