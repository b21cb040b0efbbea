"""What the offline model's team members say, role by role (data for
:mod:`clientsim.llm._offline_team`).

Placeholders: ``{plan}`` (``"the plan to launch the app on March 1"``), ``{date}``,
``{money}``, ``{care}`` (one of the role's concerns, for roles without a profile).
"""

from __future__ import annotations

from typing import Final

import attrs


@attrs.frozen
class Profile:
    """How one role talks in a team discussion.

    Attributes:
        key: the role's key (``"engineering_lead"``).
        stance: +1 leans towards going ahead, -1 towards caution, 0 weighs both.
        openings: a first message on the decision.
        points: what it says about the decision from its side.
        risks: risks it raises.
        questions: (role key of whom it asks, the question).
        conditions: what would make it support the decision (``"if ..."`` clauses).
        commitments: what it offers to do once the team agrees.
        answers: how it answers a colleague who asks it something.
        proposer: it proposes decisions when the team converges.
    """

    key: str
    stance: int
    openings: tuple[str, ...]
    points: tuple[str, ...]
    risks: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...]
    commitments: tuple[str, ...]
    answers: tuple[str, ...]
    proposer: bool = False


PROFILES: Final = {
    "ceo": Profile(
        key="ceo",
        stance=1,
        proposer=True,
        openings=(
            (
                "Let's be clear about what we're deciding: {plan} is a strategic bet with "
                "{money} on the line, and I want it judged on revenue and timing."
            ),
            (
                "My question is simple: does {plan} move revenue this year, and what does "
                "waiting cost us against the competition?"
            ),
        ),
        points=(
            (
                "Every month we wait is revenue we don't book, and the competition won't "
                "wait for us."
            ),
            (
                "Strategically this matters more than any one feature: it's how the market "
                "will see us this year."
            ),
            (
                "I can live with a smaller first version; I can't live with missing the "
                "market window."
            ),
            (
                "Our runway is fine, but I want to see how {money} turns into revenue, not "
                "just cost."
            ),
            (
                "The board will ask what we learned, not whether it was perfect; shipping "
                "teaches us more than planning."
            ),
            (
                "If the numbers say we lose more by launching badly than by launching late, "
                "I'll change my mind."
            ),
        ),
        risks=(
            (
                "The risk I worry about is a launch that disappoints in public and costs "
                "us the market's trust."
            ),
            (
                "Risk: we spend {money} and the whole quarter on this and still miss the "
                "window."
            ),
            (
                "The bigger risk is strategic: a competitor gets there first and sets the "
                "terms."
            ),
        ),
        questions=(
            ("sales", "how much revenue in the pipeline is actually waiting on this?"),
            ("engineering_lead", "what's the earliest date you'd put your name to?"),
            (
                "product_manager",
                "what's the smallest scope that still makes this worth it?",
            ),
            ("support", "what happens to our customers if the first week goes badly?"),
        ),
        conditions=(
            "the first version keeps the core promise to customers",
            "we set a clear revenue target for the quarter after launch",
            "the engineers commit to the date with the scope we agree today",
        ),
        commitments=(
            "I'll take the decision to the board and own it.",
            "I'll send the company update on our strategy the day after we decide.",
            "I'll review the launch revenue with the sales team two weeks after release.",
        ),
        answers=(
            "the priority is clear: the launch matters, but not at any cost.",
            "I'd rather ship a smaller thing on time than a bigger thing late.",
            "budget isn't the constraint here, focus is.",
        ),
    ),
    "product_manager": Profile(
        key="product_manager",
        stance=0,
        proposer=True,
        openings=(
            (
                "To frame it: we're deciding on {plan}. I'd like each of you to say what "
                "would have to be true for you to support it."
            ),
            (
                "Here's where I am: the decision is {plan}, and scope, timeline and "
                "dependencies are what I need to pin down today."
            ),
        ),
        points=(
            (
                "On scope, I'd split this into a must-have core and a follow-up release "
                "two weeks later."
            ),
            (
                "The timeline only works if we freeze scope this week; every addition after "
                "that moves {date}."
            ),
            (
                "The dependency I'm tracking is the integration work: if it slips, "
                "everything slips."
            ),
            (
                "Priorities first: what customers need on day one is onboarding and the "
                "core flow, not the extras."
            ),
            (
                "I've looked at the roadmap: with {money} on the line, we can absorb this "
                "if the reporting work moves to next quarter."
            ),
            (
                "Customer value is highest in the core flow, so that's where our effort "
                "should go."
            ),
        ),
        risks=(
            "Risk: scope creep. We keep adding things and {date} becomes fiction.",
            "The timeline risk is that testing gets squeezed into the last three days.",
            (
                "The dependency risk is real: the integration isn't done and nobody owns "
                "it yet."
            ),
        ),
        questions=(
            (
                "engineering_lead",
                "how many weeks do you need for the core scope alone?",
            ),
            ("designer", "which parts of the flow haven't been tested with users yet?"),
            ("support", "how long do you need to get the help articles ready?"),
            ("sales", "which customers have been promised this, and for what date?"),
        ),
        conditions=(
            "we freeze the scope this week",
            "the extras move to a follow-up release",
            "every open question has an owner by Friday",
        ),
        commitments=(
            "I'll write up the scope and the owners today and share the plan.",
            "I'll set a checkpoint a week before {date} to confirm the timeline holds.",
            "I'll update the roadmap so the follow-up release is visible to everyone.",
        ),
        answers=(
            (
                "the scope is the core flow plus onboarding; the rest waits for the "
                "follow-up release."
            ),
            "the timeline holds only with a scope freeze this week.",
            "I'd rank customer value first, then the date, then the extras.",
        ),
    ),
    "engineering_lead": Profile(
        key="engineering_lead",
        stance=-1,
        openings=(
            (
                "Before we commit: I need to know what's in scope, because our capacity "
                "decides whether {date} is realistic."
            ),
            (
                "From engineering's side, {plan} is doable, but not with everything that's "
                "been asked for and not without testing time."
            ),
        ),
        points=(
            (
                "We have four engineers on this, and two of them are also on call; that's "
                "our real capacity."
            ),
            (
                "The estimate for the full scope is six weeks; the core flow alone is "
                "closer to three and fits within {money}."
            ),
            (
                "I won't ship without a proper test pass; quality problems after launch "
                "cost us twice."
            ),
            (
                "The technical risk sits in the payment integration: it has never run at "
                "this load."
            ),
            "We can cut the reporting module without touching the architecture.",
            (
                "If we launch with known bugs, the next month goes to firefighting instead "
                "of the roadmap."
            ),
        ),
        risks=(
            "Risk: we skip load testing and launch-day traffic takes the service down.",
            (
                "The quality risk is real: the last release needed two hotfixes in its "
                "first week."
            ),
            (
                "The technical debt we take on to hit {date} will slow every release after "
                "it."
            ),
        ),
        questions=(
            (
                "product_manager",
                "which features can we cut if the estimate doesn't fit?",
            ),
            (
                "designer",
                "are the designs final, or will they still change during the build?",
            ),
            ("ceo", "is the date fixed, or is the scope fixed?"),
            (
                "support",
                "can your team work with a staged rollout behind a feature flag?",
            ),
        ),
        conditions=(
            "we cut scope to the core flow",
            "we get a full week of testing before release",
            "we roll out behind a feature flag to 10% of users first",
        ),
        commitments=(
            "I'll have the engineers re-estimate the core scope by Wednesday.",
            "I'll set up the feature flag and test the staged rollout plan.",
            "I'll book the load test for the week before {date}.",
        ),
        answers=(
            "realistically, the core flow fits; the full scope doesn't.",
            "our capacity is the limit: four engineers, and on-call still needs cover.",
            "I'd need a week of testing, whatever else we decide.",
        ),
    ),
    "designer": Profile(
        key="designer",
        stance=0,
        openings=(
            (
                "What I'll keep asking: will users understand this on day one? {plan} is "
                "only a win if the experience holds up."
            ),
            (
                "From the design side, the question for {plan} is whether users can get "
                "through the core flow without help."
            ),
        ),
        points=(
            (
                "In last month's usability tests, three of eight users got stuck in "
                "onboarding; that has to be fixed first."
            ),
            (
                "We already carry UX debt from the last release; more of it makes every "
                "screen harder to change."
            ),
            (
                "Accessibility isn't optional: the new screens need contrast and "
                "screen-reader checks before launch."
            ),
            (
                "A smaller, consistent experience beats a bigger one that feels stitched "
                "together."
            ),
            (
                "Users judge us by their first five minutes; the first-run flow and the "
                "empty states matter most."
            ),
            (
                "I can have the core screens final this week if we agree on what's in "
                "scope."
            ),
        ),
        risks=(
            (
                "Risk: we ship confusing onboarding and users churn before they see the "
                "value."
            ),
            "The UX debt risk: every shortcut now becomes a redesign later.",
            (
                "The risk for users is inconsistency, with half the app on the old design "
                "and half on the new."
            ),
        ),
        questions=(
            (
                "engineering_lead",
                (
                    "can the build follow the design system, or are we hand-rolling "
                    "components?"
                ),
            ),
            ("support", "what do users ask about most during onboarding today?"),
            (
                "product_manager",
                "can we fit one more usability round before the scope freeze?",
            ),
            ("sales", "what do prospects say when they see the demo?"),
        ),
        conditions=(
            "onboarding is tested with users before release",
            "we fix the two worst usability issues first",
            "the new screens pass an accessibility check",
        ),
        commitments=(
            "I'll run a quick usability round on the core flow this week.",
            (
                "I'll finish the onboarding screens and hand them to engineering by "
                "Thursday."
            ),
            "I'll log the UX debt we're taking on so it shows on the roadmap.",
        ),
        answers=(
            "users will manage the core flow; onboarding is the weak spot.",
            "the designs for the core flow are final; the extras aren't.",
            "the research says users need fewer choices on the first screen, not more.",
        ),
    ),
    "sales": Profile(
        key="sales",
        stance=1,
        openings=(
            (
                "Customers are asking for this now; {plan} would help me close deals that "
                "are waiting on it."
            ),
            (
                "From the field: three prospects in the pipeline have asked about this, "
                "and {date} is a date I can sell."
            ),
        ),
        points=(
            "Two enterprise deals are waiting on this, and both want a date in writing.",
            (
                "Competitors are already demoing something similar; every week we wait, we "
                "lose ground in the pipeline."
            ),
            (
                "Customers don't need every feature on day one; they need a date they can "
                "plan around."
            ),
            (
                "Pricing can stay as it is for the launch; the new capability is the "
                "selling point."
            ),
            (
                "If we slip, I need to know now, so I can reset expectations with customers "
                "before they hear it elsewhere."
            ),
            (
                "A launch with a customer story or two would make next quarter much easier "
                "to sell."
            ),
        ),
        risks=(
            (
                "Risk: we miss {date} after I've told customers, and we lose credibility on "
                "the deals."
            ),
            (
                "The pipeline risk is real: two deals could walk if we have nothing to show "
                "this quarter."
            ),
            "The competitive risk is that customers sign elsewhere while we polish.",
        ),
        questions=(
            ("engineering_lead", "can I promise customers {date} or not?"),
            (
                "product_manager",
                "what exactly is in the first release, so I don't oversell it?",
            ),
            (
                "support",
                "can you support two new enterprise customers in the first month?",
            ),
            ("ceo", "are we willing to give early customers a launch discount?"),
        ),
        conditions=(
            "I can give customers a firm date this week",
            "the first release covers what the pipeline deals need",
            "we have a demo ready two weeks before launch",
        ),
        commitments=(
            "I'll tell the pipeline customers the date and what's in the first release.",
            "I'll line up two customers for a launch story.",
            "I'll brief the sales team so we don't oversell to customers.",
        ),
        answers=(
            "the deals need the core flow; the extras are nice to have.",
            "customers care more about the date than about the extras.",
            "the pipeline is worth the push; I'd go ahead.",
        ),
    ),
    "support": Profile(
        key="support",
        stance=-1,
        openings=(
            (
                "My concern with {plan} is the first week: whatever confuses users lands "
                "in the ticket queue."
            ),
            (
                "Support's view: we can back {plan}, but only if the help content and the "
                "team are ready before customers arrive."
            ),
        ),
        points=(
            (
                "We're already at about 120 tickets a day; the last launch doubled that for "
                "two weeks."
            ),
            "Without help articles ready on launch day, every question becomes a ticket.",
            (
                "My team needs training on the new flow at least a week before customers "
                "see it."
            ),
            (
                "Response times slipped past a day during the last launch, and customers "
                "remember that."
            ),
            (
                "Most tickets last quarter were about onboarding, which is exactly what "
                "this changes."
            ),
            (
                "A staged rollout would let us learn from the first tickets before everyone "
                "arrives."
            ),
        ),
        risks=(
            "Risk: the ticket load doubles and response times go past a day.",
            (
                "The risk is onboarding confusion turning into a wave of tickets and "
                "refunds."
            ),
            (
                "The load risk: if we launch before the help content is ready, my team "
                "drowns."
            ),
        ),
        questions=(
            (
                "product_manager",
                "when will the help content and release notes be final?",
            ),
            ("engineering_lead", "can we roll back quickly if tickets spike?"),
            (
                "designer",
                "can onboarding explain the new flow so fewer people need us?",
            ),
            ("sales", "how many new customers should we expect in the first month?"),
        ),
        conditions=(
            "the help articles and training are ready a week before launch",
            "we roll out in stages so the ticket load stays manageable",
            "we have a rollback plan ready for a ticket spike",
        ),
        commitments=(
            "I'll write the help articles and train the team before launch.",
            "I'll set up a launch dashboard for ticket volume and response times.",
            "I'll staff an extra support shift for the first week after release.",
        ),
        answers=(
            "we can handle a staged rollout; a big-bang launch would double the tickets.",
            "the team needs a week of training, whatever the date.",
            "onboarding questions are most of our tickets, so that's what to get right.",
        ),
    ),
}

GENERIC: Final = Profile(
    key="",
    stance=0,
    openings=(
        "From my side, I'll judge {plan} by {care}.",
        "Before we decide on {plan}, I want us to look at {care}.",
    ),
    points=(
        "On {care}, we need a concrete answer before we commit.",
        "Nobody has talked about {care} yet, and it matters here.",
        "If {care} holds up, I have no objection in principle.",
        "What I've seen of {care} so far makes me careful.",
        "I'd like the plan to say what we do about {care}.",
        "{care} is where I see the weak spot.",
    ),
    risks=(
        "Risk: we underestimate what this does to {care}.",
        "The risk from where I sit is {care}: it's easy to overlook.",
    ),
    questions=(
        ("", "how does this affect {care}?"),
        ("", "what would it take to be sure about {care}?"),
    ),
    conditions=("we have a plan for {care}", "someone owns {care} from here"),
    commitments=(
        "I'll follow up on {care} and report back.",
        "I'll write down what we need for {care}.",
    ),
    answers=("for me it comes down to {care}.", "{care} first; the rest follows."),
)
"""For a role without a profile: its words are its ``cares_about``."""

ALIASES: Final = (
    ("simulation_analyst", ("analyst", "observer", "facilitator", "scribe")),
    ("ceo", ("ceo", "chief executive", "founder")),
    ("product_manager", ("product", "pm")),
    ("engineering_lead", ("engineer", "cto", "tech lead", "developer")),
    ("designer", ("design", "ux")),
    ("sales", ("sales", "account exec", "business development")),
    ("support", ("support", "customer success", "service")),
)
"""Role titles to profiles, by the words a title holds (first match wins)."""

# Reactions to the last speaker never put a comma right after the name: "Name, ..."
# is how a member hands a colleague the turn (with a question), and the turn policies
# that follow addressing read it so.
AGREE: Final = (
    "Good point, {name}.",
    "I'm with {name} on {topic}.",
    "{name} is right about {topic}.",
    "That helps, {name}.",
    "Fair point from {name}; it fits what I see.",
)
DISAGREE: Final = (
    "I see it differently from {name}.",
    "I'm not convinced, {name}: {topic} is only part of the picture.",
    "I'd push back on that, {name}.",
    "I think {name} underplays the cost.",
)
NEUTRAL: Final = (
    "Noted, {name}.",
    "Thanks, {name}; let me add my side.",
    "Understood, {name}.",
)

TOPICS: Final = {
    "ceo": ("revenue", "strategy", "the market window", "runway"),
    "product_manager": ("scope", "the timeline", "the roadmap", "dependencies"),
    "engineering_lead": (
        "capacity",
        "testing",
        "quality",
        "the estimate",
        "technical debt",
    ),
    "designer": ("onboarding", "usability", "UX debt", "accessibility"),
    "sales": ("the pipeline", "customers", "the deals", "competitors"),
    "support": ("the ticket load", "tickets", "help articles", "response times"),
}
"""What each role's messages are about, as others name it (\"on the ticket load\")."""
