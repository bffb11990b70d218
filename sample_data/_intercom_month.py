"""The story of the sample month: a workspace, its texts, and one builder per scenario.

A builder writes one conversation's timeline into a `Thread`, with times in seconds relative to
the conversation's start; generate.py places threads in the month, gives them customers and ids,
and writes them in the Intercom REST API shape. _canonical_month.py reuses the mix and the texts.
Everything is synthetic: the company "Larkspur Labs", its people and customers do not exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

HOUR, DAY = 3_600, 86_400
SEP_29, OCT_1, NOV_1 = 1_790_640_000, 1_790_812_800, 1_793_491_200  # 2026-09-29, -10-01, -11-01 UTC
CUSTOMER, FIN, OPERATOR = "customer", "fin", "operator"
ASSUMED, CONFIRMED = "assumed_resolution", "confirmed_resolution"
ESCALATED, NEGATIVE = "escalated", "negative_feedback"  # written in the 2.11-2.14 words when old
BILLABLE_LABELS = (ASSUMED, CONFIRMED)

# Share of the month's conversations per scenario (the story; see README.md).
MIX: dict[str, float] = {
    "ai_assumed": 0.265, "ai_confirmed": 0.12, "human_takeover_fin_close": 0.09,
    "repeat_contact_first": 0.045, "repeat_contact_second": 0.045, "note_only": 0.025,
    "negative_rating": 0.02, "reopened_billed": 0.015, "reopened": 0.02,
    "outbound_fin_billed": 0.005, "preview_billed": 0.007, "preview": 0.008,
    "escalated_human_finished": 0.12, "followup_then_human": 0.05, "ai_negative_feedback": 0.02,
    "outbound_no_reply": 0.035, "greeting_only": 0.025, "human_only": 0.075, "ai_pending": 0.01,
}
# API shapes: 2.11 (no from_ai_agent/is_ai_answer, old vocabulary), 2.14 (flags, old vocabulary),
# 2.16 (flags, new vocabulary).
VERSIONS = {"2.11": 0.15, "2.14": 0.425, "2.16": 0.425}
# Invoice noise, as shares of the month's billed lines.
NOISE = {"duplicate": 0.01, "prior_period": 0.01, "unknown_id": 0.005}


class Admin(NamedTuple):
    id: str
    name: str
    email: str
    team: str


ADMINS: tuple[Admin, ...] = (
    Admin("5391021", "Maya Lindqvist", "maya@larkspur.example", "support"),
    Admin("5391022", "Tomás Ortega", "tomas@larkspur.example", "support"),
    Admin("5391023", "Aisha Bello", "aisha@larkspur.example", "support"),
    Admin("5391024", "Jonas Weber", "jonas@larkspur.example", "billing"),
    Admin("5391025", "Priya Raman", "priya@larkspur.example", "billing"),
    Admin("5391026", "Liam O'Connor", "liam@larkspur.example", "billing"),
)
TEAMS: dict[str, tuple[str, str]] = {"support": ("4728101", "Support"), "billing": ("4728102", "Billing")}
APP_ID = "lk2x9q4m"
BOTS: dict[str, tuple[str, str]] = {FIN: ("8130467", "Fin"), OPERATOR: ("8130466", "Operator")}


class Topic(NamedTuple):
    label: str
    team: str
    subject: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    followups: tuple[str, ...]
    second_answer: str
    human: tuple[str, ...]
    note: str
    reopen: str
    repeat: str


TOPICS: tuple[Topic, ...] = (
    Topic("Account access", "support", "Can't log in",
          ("I forgot my password and the reset email never arrives.",
           "How do I reset my password? The link in the email says it expired.",
           "I can't log in to my account since this morning."),
          ("You can reset your password from the sign-in page: click “Forgot password?”, enter your "
           "account email and use the link we send. If the email doesn't show up within 15 minutes, "
           "check your spam folder.",
           "Reset links expire after 1 hour for security. Request a new one from larkspur.example/reset "
           "and open it in the same browser. If your company uses single sign-on, use the SSO button "
           "instead."),
          ("That didn't work, I still can't log in", "I did that twice and the link still says expired."),
          "Please clear your browser cookies for larkspur.example and request one more link; older links "
          "stop working as soon as a new one is sent.",
          ("I've checked your account: the reset emails were being suppressed after a bounce last month. "
           "I've cleared that and sent you a fresh link, it should arrive in a minute.",
           "Your account was locked after too many sign-in attempts. I've unlocked it, so the reset "
           "link will work now."),
          "Email was on the suppression list after a hard bounce. Cleared it in Postmark.",
          "Hi again, it worked for a day but now I'm locked out again.",
          "I asked about this yesterday and I still can't get into my account."),
    Topic("Billing", "billing", "Charged twice",
          ("I was charged twice for my October subscription.",
           "There are two charges of $49 on my card this month, why?",
           "My bank statement shows a duplicate payment to Larkspur."),
          ("A second charge is usually a temporary authorization from a failed payment attempt; it drops "
           "off your statement within 3-5 business days. Every successful payment is listed under "
           "Settings → Billing → Payment history.",
           "We only take one payment per billing period. If you see two, one of them is a pending "
           "authorization that your bank releases automatically within a few days."),
          ("Payment history only shows one, but my bank shows two.",
           "What about last month's charge, was that doubled too?"),
          "If your bank still shows both charges after 5 business days, send us the last four digits of "
          "the card and the charge dates and we'll trace them.",
          ("I found the duplicate: our payment provider retried after a timeout. I've refunded $49, "
           "you'll see it back on your card in 5-10 business days.",
           "Confirmed, the second charge was an authorization only and it was released today. Nothing "
           "else to do on your side."),
          "Stripe shows a retry after a gateway timeout. Refunded the duplicate charge.",
          "Hi, the refund you mentioned still hasn't shown up on my card.",
          "Following up on the double charge from two days ago, I still see both."),
    Topic("Orders & shipping", "support", "Where is my order?",
          ("Where is my order? It was supposed to arrive on Monday.",
           "My tracking number hasn't updated in four days.",
           "Can you tell me when order #48213 will ship?"),
          ("Orders ship within 2 business days and standard delivery takes 3-5 business days after that. "
           "You can follow your parcel from Orders → Track shipment; tracking can pause for up to 48 "
           "hours while a parcel is between carrier hubs.",
           "Your order page shows the latest carrier scan. If it says “Label created”, the parcel is "
           "packed and waiting for pickup, which usually happens the next business day."),
          ("What about my other order?", "The carrier says it was delivered but I never got it."),
          "Each order has its own tracking link under Orders. If a parcel shows as delivered but hasn't "
          "arrived, wait 24 hours (carriers sometimes scan early) and check with neighbours or your "
          "mailroom.",
          ("I contacted the carrier: your parcel was held at the local depot because of an address "
           "issue. It's back on the van for delivery tomorrow.",
           "The parcel was lost in transit, so I've shipped a replacement with express delivery at no "
           "cost. The new tracking link is in your inbox."),
          "Carrier claim opened for the lost parcel.",
          "Hello again, the replacement still hasn't arrived.",
          "I wrote yesterday about my missing package, any news?"),
    Topic("Refunds", "billing", "Refund request",
          ("I'd like a refund for my last order, the item arrived damaged.",
           "How long does a refund take?",
           "Can I get my money back for the annual plan? I only used it for a week."),
          ("We refund damaged items in full. Go to Orders → Request a return, pick “Arrived damaged” and "
           "add a photo; the refund goes back to your original payment method within 5-10 business days "
           "after approval.",
           "Annual plans can be refunded in full within 14 days of purchase. Request it from Settings → "
           "Billing → Cancel plan and the refund is issued automatically."),
          ("I don't see the Request a return button on that order.",
           "It's been 12 days already, is that normal?"),
          "The return button appears once an order is marked delivered. If it's missing, the order may "
          "still be in transit in our system.",
          ("I've approved the refund manually: $86.40 is on its way back to your card, and you don't "
           "need to send the item back.",
           "Refund issued for the annual plan ($468). You'll get a confirmation email from our billing "
           "system shortly."),
          "Damage photo looks legit, approved the refund without a return.",
          "Hi, I still haven't received the refund you approved last week.",
          "Me again about the refund, the return page gives an error."),
    Topic("Integrations", "support", "Slack notifications stopped",
          ("The Slack integration stopped posting notifications to our channel.",
           "How do I connect Larkspur to Slack?",
           "Slack says our workspace token is invalid."),
          ("Go to Settings → Integrations → Slack, click “Reconnect” and approve the permissions in "
           "Slack. Notifications resume within a few minutes. If you renamed the channel recently, pick "
           "it again after reconnecting.",
           "To connect Slack, open Settings → Integrations, choose Slack and follow the prompts. You'll "
           "need permission to install apps in your Slack workspace."),
          ("Reconnect gives me an error: missing_scope.", "Can it post to two channels at once?"),
          "The missing_scope error means a Slack workspace admin has to approve the app. Ask your Slack "
          "admin to approve Larkspur under Manage apps, then reconnect.",
          ("Our Slack app's token was revoked when your workspace rotated credentials. I've reset the "
           "connection on our side; click Reconnect once more and it will work.",
           "I've enabled multi-channel posting on your account, so you can add a second channel under "
           "Settings → Integrations → Slack."),
          "Known issue with token rotation, linked to ENG-2231.",
          "Notifications stopped again this morning.",
          "Slack is still not getting our notifications after yesterday's fix."),
    Topic("Integrations", "support", "Shopify sync",
          ("Orders from Shopify aren't syncing since yesterday.",
           "How do I connect my Shopify store?",
           "Inventory counts don't match between Shopify and Larkspur."),
          ("Open Settings → Integrations → Shopify and check the sync status. If it says “Paused”, click "
           "Resume; Shopify pauses apps when a webhook fails repeatedly. Missed orders are backfilled "
           "automatically once sync resumes.",
           "Install the Larkspur app from the Shopify App Store, then sign in with your Larkspur "
           "account. Products and orders from the last 60 days sync within an hour."),
          ("It says Active but still nothing syncs.", "What about orders from before I connected?"),
          "Historical orders can be imported from Settings → Integrations → Shopify → Import past "
          "orders, up to 12 months back.",
          ("Your Shopify webhook subscription was deleted on their side. I've re-registered it and "
           "triggered a backfill; the 37 missing orders are now in Larkspur.",
           "Inventory sync was using the wrong location. I've switched it to your main warehouse and "
           "re-synced the counts."),
          "Webhook 410 from Shopify, re-registered manually.",
          "Sync broke again overnight.",
          "Shopify orders are missing again, same as two days ago."),
    Topic("Account & plan", "billing", "Cancel subscription",
          ("How do I cancel my subscription?",
           "Please cancel my account at the end of this billing period.",
           "I want to downgrade to the free plan."),
          ("You can cancel any time from Settings → Billing → Cancel plan. Your plan stays active until "
           "the end of the current billing period and you won't be charged again.",
           "Downgrades take effect at your next billing date. Go to Settings → Billing → Change plan "
           "and pick Free; paid features stay on until then."),
          ("Will I lose my data if I cancel?", "Can I pause instead of cancelling?"),
          "Your data is kept for 90 days after cancellation, so you can come back without losing "
          "anything. You can also export everything from Settings → Data export first.",
          ("Done: your subscription is cancelled and ends on the 31st. You won't be charged again.",
           "I've moved you to the free plan from your next billing date and applied a prorated credit "
           "of $12.50."),
          "Churn reason: price. Offered 20% discount, declined.",
          "I cancelled but I was charged again today.",
          "I asked to cancel two days ago but the plan still shows active."),
    Topic("Billing", "billing", "Update card",
          ("How do I update my credit card?",
           "My card expired, where do I add a new one?",
           "Can I pay by invoice instead of card?"),
          ("Go to Settings → Billing → Payment method and click “Replace card”. The new card is used for "
           "your next invoice, and if a payment failed recently we retry it within 24 hours.",
           "Invoice billing is available on annual plans. On monthly plans we accept cards and PayPal, "
           "which you can add under Settings → Billing → Payment method."),
          ("It keeps saying my card was declined.", "Can I add a second card as a backup?"),
          "Declines usually come from the bank's fraud check. Try once more, then ask your bank to allow "
          "payments to Larkspur Labs.",
          ("I've switched your account to invoice billing with 30-day terms. Your next invoice will be "
           "emailed to the billing contact.",
           "The decline came from a 3-D Secure check. I've sent you a secure link to re-authorize the "
           "card."),
          "Moved to invoice billing, approved by finance.",
          "It's still declined after the new link.",
          "My card update still isn't working, as I mentioned yesterday."),
    Topic("Billing", "billing", "Invoice with VAT number",
          ("Where can I download my invoices?",
           "I need an invoice with our VAT number on it.",
           "Can you resend the September invoice?"),
          ("All invoices are under Settings → Billing → Invoices; click any invoice to download a PDF. "
           "To show your VAT number, add it under Billing details and it appears on every future "
           "invoice.",
           "You can resend any invoice from Settings → Billing → Invoices → ⋯ → Email invoice. It goes "
           "to the billing contact on file."),
          ("What about invoices from before I added the VAT number?",
           "The PDF download button does nothing."),
          "Past invoices can be regenerated from the invoice menu (⋯ → Regenerate) after you add your "
          "VAT number.",
          ("I've regenerated your July to September invoices with your VAT number and emailed them to "
           "your billing address.",
           "The download failed because of an ad-blocker rule, so I've emailed you the PDFs directly."),
          "Reissued 3 invoices with the VAT ID.",
          "The regenerated invoices still show the old address.",
          "I still can't get the invoices with our VAT number."),
    Topic("Account access", "support", "Two-factor authentication",
          ("I lost my phone and can't get my 2FA code.",
           "How do I turn on two-factor authentication?",
           "My authenticator codes are always rejected."),
          ("You can sign in with one of the backup codes you saved when you enabled 2FA. Once you're in, "
           "go to Settings → Security to set up your new phone.",
           "Rejected codes are almost always caused by the phone's clock being out of sync. Turn on "
           "automatic date and time on your phone and try a fresh code."),
          ("I don't have the backup codes.", "The clock is correct and it still fails."),
          "Without backup codes we need to verify your identity before resetting 2FA, so you'll need "
          "access to your account email.",
          ("I've verified your identity and reset two-factor authentication. Sign in with your password "
           "and set up 2FA again.",
           "Your account still had an old authenticator registered. I've removed it; scan the new QR "
           "code in Settings → Security."),
          "Identity verified via email and last invoice amount. 2FA reset.",
          "The 2FA reset worked but now it asks again on every login.",
          "As I said yesterday, I'm still locked out because of 2FA."),
    Topic("Data & reports", "support", "Data export",
          ("How can I export all my customer data to CSV?",
           "The export has been stuck at 'processing' for hours.",
           "Is there an API to download reports?"),
          ("Go to Reports → Export, pick the date range and click “Export CSV”. Large exports are "
           "emailed to you as a download link when ready, usually within 30 minutes.",
           "Reports can be downloaded with the Reports API on the Growth plan. The docs at "
           "developers.larkspur.example list every report and its fields."),
          ("I never received the email with the link.", "What about exporting orders, not just customers?"),
          "Order exports are in Orders → Export with the same options. Download links stay valid for 7 "
          "days.",
          ("Your export job was stuck behind a large backfill. I've restarted it and the link is in your "
           "inbox now.",
           "The Reports API is available on the Growth plan. I've enabled a trial of it on your account "
           "and sent you the docs."),
          "Export queue stuck, restarted the worker for this account.",
          "The export link you sent has expired already.",
          "My export is stuck again, same as the day before yesterday."),
    Topic("Orders & shipping", "support", "Change delivery address",
          ("Can I change the delivery address on my order?",
           "I moved, how do I update my shipping address?",
           "I typed the wrong postcode on my order."),
          ("You can edit the address from Orders → Edit delivery details until the order is packed, "
           "usually within 2 hours of purchase. For future orders, update your default address under "
           "Account → Addresses.",
           "Your default shipping address lives under Account → Addresses. Changing it there updates "
           "future orders; open orders keep the address they were placed with."),
          ("The edit option is greyed out.", "What about my other order?"),
          "If the edit option is greyed out, the order has already been packed. The carrier can still "
          "redirect it once it has a tracking number.",
          ("I caught the order before dispatch and updated the address; it ships today to the new "
           "postcode.",
           "I've asked the carrier to redirect the parcel to your new address. It may take one extra day."),
          "Redirect requested with the carrier, fee waived.",
          "The parcel still went to my old address.",
          "Following up on the address change from yesterday, it still shows the old one."),
)

HUMAN_REQUESTS = ("Can I talk to a human?", "I want to speak to a real person", "representative please",
                  "Can I talk to a human please? It's urgent.",
                  "I'd rather speak to a real person about this.")
CONFIRMATIONS = ("Thanks, that helped!", "Perfect, thank you", "Great, thanks", "Ok thanks!",
                 "That worked, thank you")
HELPED, MORE_HELP = "That helped 👍", "Get more help"
THANKS_HUMAN = ("Great, thanks for sorting that out!", "Thank you so much!",
                "Perfect, that fixed it. Thanks!")
NEGATIVE_REACTIONS = ("That's not what I asked.", "This doesn't help at all.", "No, that's wrong.",
                      "Useless answer.")
GREETINGS = ("Hi", "Hello", "hey there", "Hi!", "Good morning")
FIN_GREETING = "Hi there 👋 I'm Fin, Larkspur's AI agent. How can I help you today?"
FIN_CLOSING = "Is there anything else I can help with?"
FIN_FEEDBACK_PROMPT = "Did that answer your question?"
FIN_GLAD = ("Glad I could help! 🙌", "Great, happy to help!")
FIN_SORRY = "Sorry that wasn't helpful. Could you tell me a bit more about what you need?"
FIN_HANDOFF_ASKED = ("Of course. I'm passing you to our {team} team now.",
                     "Sure, I'll connect you with the {team} team.")
FIN_HANDOFF_SELF = ("This one needs a teammate to look at your account, so I'm passing you to our "
                    "{team} team.", "Let me get someone from the {team} team to check this for you.")
OPERATOR_WAIT = ("The team will reply as soon as they can. You'll get replies here and by email.",
                 "Thanks for getting in touch! We'll reply as soon as we can, usually within a few hours.")
OUTBOUND_AUTOMATED = (
    "Your October invoice is ready. You can download it any time from Settings → Billing → Invoices.",
    "Heads up: scheduled maintenance on Sunday 02:00-03:00 UTC. The dashboard may be unavailable for a "
    "few minutes.",
    "New: Shopify inventory sync now runs every 5 minutes. No action needed on your side.")
OUTBOUND_ADMIN = ("Hi {first}, just checking in: your replacement order shipped this morning.",
                  "Hi {first}, your refund has been processed. Let me know if anything looks off.",
                  "Hi {first}, we noticed a failed payment on your account. You can update your card "
                  "under Settings → Billing.")
PROACTIVE_SOURCE = "We're updating our plans on November 1. Reply here if you have any questions."
PROACTIVE_FIN = ("In short: existing annual plans keep their price, monthly plans move to the new tiers "
                 "at your next renewal, and you can compare the tiers under Settings → Billing → Plans.")
REMARKS_GOOD = ("Very helpful!", "Quick and clear", "", "Solved it in a minute")
REMARKS_BAD = ("Didn't answer my question", "Had to ask twice", "Not helpful", "")
SOURCE_TITLES = ("Fin: Support inbound", "Fin: Billing questions", "Fin: Messenger default")


@dataclass
class Part:
    at: int
    part_type: str
    actor: str  # CUSTOMER, FIN, OPERATOR or an admin id
    body: str | None = None
    assigned_to: tuple[str, str] | None = None  # ("team" | "admin", id)
    ai_answer: bool = False
    quick_replies: tuple[str, ...] = ()  # the buttons Fin offers
    attribute: str | None = None  # value of the "Topic" attribute a workflow sets


@dataclass
class Thread:
    """One conversation's timeline; `at` values are seconds after its start until placed."""

    scenario: str
    rng: random.Random
    topic: Topic
    admin: Admin
    channel: str = "conversation"
    delivered_as: str = "customer_initiated"
    source_actor: str = CUSTOMER
    source_body: str = ""
    parts: list[Part] = field(default_factory=list)
    clock: int = 0
    label: str | None = None
    resolved_at: int | None = None
    ai_source: str | None = None  # ai_agent.source_type; None = Fin never took part
    ai_title: str | None = None
    answer_type: str | None = None
    ai_rating: tuple[int, str, int] | None = None  # (rating, remark, at)
    conversation_rating: tuple[int, str, int] | None = None
    preview_admin: Admin | None = None
    start: int = 0

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def add(self, lo: int, hi: int, part_type: str, actor: str, body: str | None = None,
            **extra: object) -> Part:
        self.clock += self.rng.randint(lo, hi)
        part = Part(self.clock, part_type, actor, body, **extra)  # type: ignore[arg-type]
        self.parts.append(part)
        return part

    def last_at(self, actor: str, types: tuple[str, ...] = ("comment", "quick_reply")) -> int:
        return max(p.at for p in self.parts if p.actor == actor and p.part_type in types)

    def end(self) -> int:
        times = [self.clock] + [r[2] for r in (self.ai_rating, self.conversation_rating) if r]
        return max(times)


# --- steps shared by the scenarios -------------------------------------------------------------

def ask(t: Thread, body: str | None = None) -> None:
    t.source_body = body or t.pick(t.topic.questions)
    t.ai_source = t.ai_source or t.rng.choices(("workflow", "profile", "essentials_plan_setup"), (8, 3, 1))[0]
    t.ai_title = None if t.ai_source == "essentials_plan_setup" else t.pick(SOURCE_TITLES)
    if t.rng.random() < 0.3:
        t.add(1, 2, "conversation_attribute_updated_by_workflow", OPERATOR, attribute=t.topic.label)


def fin_answer(t: Thread, body: str | None = None) -> None:
    if t.answer_type is None:
        t.answer_type = "custom_answer" if t.rng.random() < 0.1 else "ai_answer"
    # A custom answer is written by a teammate in advance: from the AI agent, not AI-generated.
    t.add(6, 40, "comment", FIN, body or t.pick(t.topic.answers), ai_answer=t.answer_type == "ai_answer")


def fin_says(t: Thread, body: str, lo: int = 3, hi: int = 20) -> None:
    t.add(lo, hi, "comment", FIN, body)


def customer(t: Thread, body: str, lo: int = 20, hi: int = 300, part_type: str = "comment") -> None:
    t.add(lo, hi, part_type, CUSTOMER, body)


def offer_feedback(t: Thread) -> bool:
    """Fin's "That helped 👍 / Get more help" buttons (messenger only); False when not offered."""
    if t.channel == "email":
        return False
    t.add(1, 3, "quick_reply", FIN, FIN_FEEDBACK_PROMPT, quick_replies=(HELPED, MORE_HELP))
    return True


def handoff(t: Thread, asked: bool) -> None:
    team_id, team_name = TEAMS[t.admin.team]
    fin_says(t, t.pick(FIN_HANDOFF_ASKED if asked else FIN_HANDOFF_SELF).format(team=team_name))
    t.add(1, 2, "assignment", FIN, assigned_to=("team", team_id))
    t.add(1, 5, "comment", OPERATOR, t.pick(OPERATOR_WAIT))


def human_solves(t: Thread, note_chance: float = 0.25) -> None:
    t.add(120, 4 * HOUR, "assignment", t.admin.id, assigned_to=("admin", t.admin.id))
    if t.rng.random() < note_chance:
        t.add(30, 300, "note", t.admin.id, t.topic.note)
    t.add(60, 900, "comment", t.admin.id, t.pick(t.topic.human))


def close(t: Thread, actor: str, lo: int = 1200, hi: int = 3600) -> None:
    t.add(lo, hi, "close", actor)


def resolve(t: Thread, label: str | None) -> None:
    """Record the label; a resolution is recorded 24 h after Fin's last message, or at once if confirmed."""
    t.label = label
    if label == ASSUMED:
        t.resolved_at = t.last_at(FIN) + DAY
    elif label == CONFIRMED:
        t.resolved_at = t.last_at(CUSTOMER)


def rate_ai(t: Thread, lo: int, hi: int) -> None:
    rating = t.rng.randint(lo, hi)
    remark = t.pick(REMARKS_GOOD if rating >= 3 else REMARKS_BAD)
    t.ai_rating = (rating, remark, t.clock + t.rng.randint(5, 90))


def rate_conversation(t: Thread, lo: int, hi: int) -> None:
    rating = t.rng.randint(lo, hi)
    remark = t.pick(("", "", "Fast and friendly", "Thanks!")) if rating >= 3 else "Took too long"
    t.conversation_rating = (rating, remark, t.clock + t.rng.randint(30, 600))


def ask_for_human(t: Thread) -> None:
    """The customer asks for a person (typed, or the "Get more help" button) or Fin hands off itself."""
    roll = t.rng.random()
    if 0.55 <= roll < 0.75 and offer_feedback(t):
        customer(t, MORE_HELP, 5, 60, part_type="quick_reply")
    elif roll < 0.75:
        customer(t, t.pick(HUMAN_REQUESTS))
    handoff(t, asked=roll < 0.75)


# --- scenarios ---------------------------------------------------------------------------------

def ai_assumed(t: Thread, followup: float = 0.2, closing: float = 0.4) -> None:
    ask(t)
    fin_answer(t)
    if t.rng.random() < followup:
        customer(t, t.pick(t.topic.followups))
        fin_answer(t, t.topic.second_answer)
    if t.rng.random() < 0.3:
        offer_feedback(t)
    if t.rng.random() < closing:
        fin_says(t, FIN_CLOSING, 240, 255)  # Fin's fixed 4-minute idle check-in
    if t.rng.random() < 0.1:
        rate_ai(t, 3, 5)
    close(t, FIN)
    resolve(t, ASSUMED)


def ai_confirmed(t: Thread) -> None:
    ask(t)
    fin_answer(t)
    if t.rng.random() < 0.5 and offer_feedback(t) and t.rng.random() < 0.6:
        customer(t, HELPED, 5, 60, part_type="quick_reply")
    if t.parts[-1].actor != CUSTOMER:
        customer(t, t.pick(CONFIRMATIONS))
    confirmed_at = t.clock
    if t.rng.random() < 0.25:
        fin_says(t, t.pick(FIN_GLAD), 2, 5)
    if t.rng.random() < 0.4:
        rate_ai(t, 4, 5)
    close(t, FIN, 60, 900)
    t.label, t.resolved_at = CONFIRMED, confirmed_at


def human_takeover_fin_close(t: Thread) -> None:
    """THE GOTCHA: a human solves it, Fin's idle check-in speaks last, Intercom labels it assumed."""
    ask(t)
    fin_answer(t)
    if t.rng.random() < 0.2:
        customer(t, t.pick(t.topic.followups))
    ask_for_human(t)
    human_solves(t)
    if t.rng.random() < 0.35:
        customer(t, t.pick(THANKS_HUMAN), 30, 400)
    fin_says(t, FIN_CLOSING, 240, 255)
    if t.rng.random() < 0.3:
        rate_conversation(t, 4, 5)
    close(t, FIN)
    resolve(t, ASSUMED)


def escalated_human_finished(t: Thread) -> None:
    ask(t)
    fin_answer(t)
    ask_for_human(t)
    human_solves(t)
    if t.rng.random() < 0.5:
        customer(t, t.pick(THANKS_HUMAN), 30, 400)
    if t.rng.random() < 0.3:
        rate_conversation(t, 3, 5)
    close(t, t.admin.id, 60, 1800)
    resolve(t, ESCALATED)


def followup_then_human(t: Thread) -> None:
    ask(t)
    fin_answer(t)
    first, second = t.rng.sample(t.topic.followups, 2)
    customer(t, first)
    fin_answer(t, t.topic.second_answer)
    asked = t.rng.random() < 0.5
    customer(t, t.pick(HUMAN_REQUESTS) if asked else second)
    handoff(t, asked)
    human_solves(t)
    close(t, t.admin.id, 60, 1800)
    resolve(t, ESCALATED)


def reopened(t: Thread, still_billed: bool = False) -> None:
    """Fin 'resolves' and closes; days later the customer writes in the same conversation."""
    ai_assumed(t, followup=0.0, closing=0.2)
    label, resolved_at = t.label, t.resolved_at
    customer(t, t.topic.reopen, 2 * DAY, 6 * DAY, part_type="open")
    t.add(2, 10, "comment", OPERATOR, t.pick(OPERATOR_WAIT))
    human_solves(t)
    close(t, t.admin.id, 60, 1800)
    t.label, t.resolved_at = (label, resolved_at) if still_billed else (ESCALATED, None)


def repeat_contact_second(t: Thread) -> None:
    ask(t, t.topic.repeat)
    fin_answer(t, t.topic.second_answer)
    customer(t, t.pick(HUMAN_REQUESTS))
    handoff(t, asked=True)
    human_solves(t)
    close(t, t.admin.id, 60, 1800)
    resolve(t, ESCALATED)


def note_only(t: Thread) -> None:
    """A teammate leaves an internal note on an AI-resolved conversation: not a takeover."""
    ai_assumed(t, followup=0.1, closing=0.2)
    t.add(600, 6 * HOUR, "note", t.admin.id, t.topic.note)


def negative_rating(t: Thread) -> None:
    ask(t)
    fin_answer(t)
    rate_ai(t, 1, 2)
    close(t, FIN)
    resolve(t, ASSUMED)


def ai_negative_feedback(t: Thread) -> None:
    ask(t)
    fin_answer(t)
    customer(t, t.pick(NEGATIVE_REACTIONS))
    fin_says(t, FIN_SORRY)
    if t.rng.random() < 0.5:
        rate_ai(t, 1, 2)
    close(t, FIN)
    resolve(t, NEGATIVE)


def outbound_no_reply(t: Thread) -> None:
    if t.rng.random() < 0.6:
        t.source_actor, t.delivered_as = OPERATOR, "automated"
        t.source_body = t.pick(OUTBOUND_AUTOMATED)
    else:
        t.source_actor, t.delivered_as = t.admin.id, "admin_initiated"
        t.source_body = t.pick(OUTBOUND_ADMIN)  # {first} is filled in when the customer is known
    if t.rng.random() < 0.5:
        close(t, t.source_actor, DAY, 4 * DAY)


def outbound_fin_billed(t: Thread) -> None:
    """A proactive message Fin follows up on; the customer never writes, Intercom still bills it."""
    t.source_actor, t.delivered_as, t.source_body = OPERATOR, "automated", PROACTIVE_SOURCE
    t.ai_source, t.ai_title, t.answer_type = "workflow", "Proactive: plan update", "ai_answer"
    fin_answer(t, PROACTIVE_FIN)
    close(t, FIN)
    resolve(t, ASSUMED)


def preview(t: Thread, still_billed: bool = False) -> None:
    """A teammate testing Fin in the preview; the contact is their own test lead."""
    t.preview_admin = t.admin
    t.ai_source = t.pick(("fin_preview", "fin_preview", "workflow_preview"))
    ask(t)
    t.ai_title = "Preview" if t.ai_source == "fin_preview" else "Workflow preview: Refunds"
    fin_answer(t)
    if not still_billed and t.rng.random() < 0.5:
        customer(t, t.pick(HUMAN_REQUESTS))
        handoff(t, asked=True)
        t.label = ESCALATED
    elif still_billed:
        close(t, FIN, 120, 600)
        resolve(t, ASSUMED)
    else:
        close(t, t.admin.id, 30, 600)


def greeting_only(t: Thread) -> None:
    ask(t, t.pick(GREETINGS))
    fin_says(t, FIN_GREETING, 3, 8)
    close(t, FIN)


def human_only(t: Thread) -> None:
    t.channel = "email" if t.rng.random() < 0.7 else "conversation"
    t.source_body = t.pick(t.topic.questions)
    t.add(5, 30, "comment", OPERATOR, t.pick(OPERATOR_WAIT))
    t.add(1, 3, "assignment", OPERATOR, assigned_to=("team", TEAMS[t.admin.team][0]))
    human_solves(t, note_chance=0.3)
    if t.rng.random() < 0.4:
        customer(t, t.pick(THANKS_HUMAN), 300, 6 * HOUR)
    if t.rng.random() < 0.25:
        rate_conversation(t, 2, 5)
    close(t, t.admin.id, 60, 3600)


def ai_pending(t: Thread) -> None:
    """Fin answered less than 24 h before the export: no resolution recorded yet, still open."""
    ask(t)
    fin_answer(t)
    if t.rng.random() < 0.4:
        fin_says(t, FIN_CLOSING, 240, 255)


BUILDERS: dict[str, Callable[[Thread], None]] = {
    "ai_assumed": ai_assumed,
    "ai_confirmed": ai_confirmed,
    "human_takeover_fin_close": human_takeover_fin_close,
    "repeat_contact_first": lambda t: ai_assumed(t, followup=0.0),
    "repeat_contact_second": repeat_contact_second,
    "note_only": note_only,
    "negative_rating": negative_rating,
    "reopened_billed": lambda t: reopened(t, still_billed=True),
    "reopened": reopened,
    "outbound_fin_billed": outbound_fin_billed,
    "preview_billed": lambda t: preview(t, still_billed=True),
    "preview": preview,
    "escalated_human_finished": escalated_human_finished,
    "followup_then_human": followup_then_human,
    "ai_negative_feedback": ai_negative_feedback,
    "outbound_no_reply": outbound_no_reply,
    "greeting_only": greeting_only,
    "human_only": human_only,
    "ai_pending": ai_pending,
    "prior_period": lambda t: (ai_confirmed if t.rng.random() < 0.3 else ai_assumed)(t),
}


def build(scenario: str, rng: random.Random, topic: Topic | None = None) -> Thread:
    topic = topic or rng.choice(TOPICS)
    admin = rng.choice([a for a in ADMINS if a.team == topic.team])
    thread = Thread(scenario, rng, topic, admin)
    if rng.random() < 0.1 and scenario not in ("human_only", "preview", "preview_billed"):
        thread.channel = "email"
    BUILDERS[scenario](thread)
    return thread
