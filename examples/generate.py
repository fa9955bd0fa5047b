#!/usr/bin/env python3
"""Generate the bundled fieldloop example data for initiative "q3-push".

Writes, relative to this script's directory:
  q3-push/feedback.jsonl           IngestRequest lines: feedback_event + call_transcript
  q3-push/win_loss.jsonl           IngestRequest lines: win_loss_note
  q3-push/content_inventory.csv    content assets
  q3-push/onboarding_metrics.csv   onboarding cohort metrics

Standard library only and fully deterministic (fixed seed, no clock reads): re-running it
reproduces byte-identical files. Run with:  python3 examples/generate.py
"""

import csv
import datetime as dt
import json
import os
import random
import re

SEED = 20260925
INITIATIVE = "q3-push"
START = dt.date(2026, 4, 1)
END = dt.date(2026, 11, 20)
NEW_TIER_LAUNCH = dt.date(2026, 7, 20)

N_FEEDBACK = 242
N_TRANSCRIPTS = 70
N_THEME_TAGS = 15

REGIONS = ["NA", "EMEA", "APAC", "LATAM"]
SEGMENTS = ["SMB", "MidMarket", "Enterprise"]
REGION_SHARE = {"NA": 0.35, "EMEA": 0.28, "APAC": 0.19, "LATAM": 0.18}
SEGMENT_SHARE = {"SMB": 0.35, "MidMarket": 0.38, "Enterprise": 0.27}

# ---------------------------------------------------------------------------------------
# Reps: (rep_id, first name, home region, home segment). 25 reps.
REPS = [
    ("rep-jmiller", "Jordan", "NA", "Enterprise"),
    ("rep-aokafor", "Ada", "NA", "MidMarket"),
    ("rep-dchen", "Derek", "NA", "SMB"),
    ("rep-kpatel", "Kavya", "NA", "Enterprise"),
    ("rep-sbrooks", "Sam", "NA", "MidMarket"),
    ("rep-tnguyen", "Tuan", "NA", "SMB"),
    ("rep-mreyes", "Marisol", "NA", "MidMarket"),
    ("rep-lwhite", "Logan", "NA", "Enterprise"),
    ("rep-zmartin", "Zoë", "EMEA", "MidMarket"),
    ("rep-fmuller", "Felix", "EMEA", "Enterprise"),
    ("rep-ahansen", "Astrid", "EMEA", "SMB"),
    ("rep-cdubois", "Claire", "EMEA", "Enterprise"),
    ("rep-gbianchi", "Giulia", "EMEA", "MidMarket"),
    ("rep-okowalski", "Oskar", "EMEA", "SMB"),
    ("rep-ivandenberg", "Iris", "EMEA", "Enterprise"),
    ("rep-htanaka", "Hiro", "APAC", "Enterprise"),
    ("rep-psharma", "Priya", "APAC", "MidMarket"),
    ("rep-jlee", "Jin", "APAC", "SMB"),
    ("rep-mwong", "Mei", "APAC", "MidMarket"),
    ("rep-ekelly", "Erin", "APAC", "Enterprise"),
    ("rep-asouza", "Ana", "LATAM", "SMB"),
    ("rep-lgarcia", "Luis", "LATAM", "MidMarket"),
    ("rep-cramirez", "Camila", "LATAM", "SMB"),
    ("rep-dferreira", "Diego", "LATAM", "Enterprise"),
    ("rep-vortiz", "Valentina", "LATAM", "SMB"),
]
REP_FIRST = {r[0]: r[1] for r in REPS}

PROSPECTS = {
    "NA": ["Brightline Logistics", "Oakmont Health", "Tidewater Bank", "Cobalt Freight",
           "Halcyon Insurance", "Redwood Dental Group", "Pinecrest Realty",
           "Summit Outdoor Supply", "Larkspur Software", "Granite State Credit Union"],
    "EMEA": ["Müller & Söhne GmbH", "Nordhavn Shipping", "Brasserie Lyonnaise",
             "Thames Valley Housing", "Van Dijk Logistiek", "Kraków Motors", "Helios Energie",
             "Albion Legal LLP", "Fjord Seafood", "Ostrava Steelworks"],
    "APAC": ["Harbourline Pty", "Kaito Logistics", "Lotus Hospitality", "Southern Cross Mining",
             "Bayview Clinics", "Tenjin Electronics", "Marina Bay Capital", "Kiwi Orchard Co"],
    "LATAM": ["Grupo Andino", "Construtora Paulista", "Café Montaña", "Agro Pampa",
              "Farmacias del Sol", "Transportes Ávila", "Banco Cordillera", "Tienda Rápida"],
}
BUYERS = {
    "NA": ["Tom", "Rachel", "Marcus", "Jenna", "Bill", "Alicia"],
    "EMEA": ["Ingrid", "Jonas", "Sophie", "Lukas", "Zoë", "Amélie", "Henrik"],
    "APAC": ["Kenji", "Mei", "Raj", "Sarah", "Wei", "Aroha"],
    "LATAM": ["Rafael", "Camila", "João", "Lucía", "Mateus", "Sofía"],
}

# ---------------------------------------------------------------------------------------
# Themes. Affinities multiply the region/segment shares when a record's region/segment is
# drawn for that theme.
THEMES = {
    # slug: (count of feedback events, region affinity, segment affinity)
    "pricing-pressure": (28, (1, 1, 1, 1), (1.3, 1.2, 0.6)),
    "security-compliance": (27, (0.5, 2.8, 0.6, 0.3), (0.3, 1.0, 1.8)),
    "crm-integration": (25, (1.4, 0.8, 0.8, 0.7), (1.1, 1.4, 0.8)),
    "implementation-time": (21, (1, 1, 1, 1), (0.3, 0.9, 1.8)),
    "acme-battlecard": (22, (1.5, 1.2, 0.5, 0.5), (0.8, 1.2, 1.0)),
    "northwind-undercut": (21, (1.2, 0.6, 1.8, 0.6), (1.4, 1.3, 0.3)),
    "roi-business-case": (22, (1, 1, 1, 1), (0.6, 1.2, 1.3)),
    "procurement-legal": (20, (1, 1.1, 1, 0.8), (0.05, 0.4, 3.0)),
    "new-tier-demo": (22, (1, 1, 1, 1), (1, 1, 1)),
    "monthly-billing": (20, (0.4, 0.4, 0.5, 3.5), (3.0, 0.3, 0.02)),
    "misc": (14, (1, 1, 1, 1), (1, 1, 1)),
}

# Source weights per theme: (CALL, RIDE_ALONG, ENABLEMENT_SESSION, OTHER)
SOURCES = ["SOURCE_CALL", "SOURCE_RIDE_ALONG", "SOURCE_ENABLEMENT_SESSION", "SOURCE_OTHER"]
SOURCE_WEIGHTS = {
    "new-tier-demo": (2, 3, 6, 2),
    "acme-battlecard": (4, 2, 3, 3),
    "roi-business-case": (4, 2, 2, 3),
    "misc": (3, 1, 1, 5),
}
DEFAULT_SOURCE_WEIGHTS = (6, 2, 2, 3)

# ---------------------------------------------------------------------------------------
# Content inventory. Gaps on purpose: no ROI calculator / business-case asset and nothing
# on monthly billing.
ASSETS = [
    ("cnt-1001", "Acme CRM Battlecard", "battlecard", "Dana Whitfield",
     "2025-03-10", "competitor:acme;battlecard;objection-handling"),
    ("cnt-1002", "Security, Privacy & Compliance Overview", "one-pager", "security-team@fieldloop.example",
     "2026-05-18", "security;soc2;gdpr;trust"),
    ("cnt-1003", "Pricing & Packaging 2026", "deck", "pricing@fieldloop.example",
     "2026-10-06", "pricing;discount;packaging"),
    ("cnt-1004", "Pro Insights Tier: Onboarding Module", "module", "enablement@fieldloop.example",
     "2026-08-04", "onboarding;new-tier;pro-insights;demo"),
    ("cnt-1005", "Northwind Analytics Quick Compare", "battlecard", "Priyanka Rao",
     "2026-10-14", "competitor:northwind;pricing"),
    ("cnt-1006", "Discount Approval Play", "play", "Deal Desk",
     "2025-11-03", "pricing;discount;deal-desk"),
    ("cnt-1007", "Salesforce Integration FAQ", "snippet", "Marco Lindqvist",
     "2025-02-18", "integration;salesforce"),
    ("cnt-1008", "Implementation Timeline One-Pager", "one-pager", "Professional Services",
     "2025-06-30", "implementation;services"),
    ("cnt-1009", "Initech Rollout in 6 Weeks (Customer Story)", "video", "customer-marketing@fieldloop.example",
     "2026-07-21", "customer-story;implementation;reference"),
    ("cnt-1010", "Enterprise Procurement & Legal Playbook", "play", "legal-ops@fieldloop.example",
     "2024-12-05", "legal;procurement;enterprise"),
    ("cnt-1011", "Discovery Call Talk Track", "snippet", "Dana Whitfield",
     "2026-09-15", "discovery;talk-track"),
    ("cnt-1012", "Globex Suite Battlecard", "battlecard", "Priyanka Rao",
     "2026-06-22", "competitor:globex;battlecard"),
    ("cnt-1013", "EU Data Residency FAQ", "snippet", "security-team@fieldloop.example",
     "2026-10-20", "security;data-residency;gdpr;emea"),
    ("cnt-1014", "New-Hire Certification: Core Platform", "module", "enablement@fieldloop.example",
     "2026-03-02", "onboarding;certification"),
]
THEME_ASSETS = {
    "pricing-pressure": (0.3, ["cnt-1003", "cnt-1006"]),
    "security-compliance": (0.35, ["cnt-1002", "cnt-1013"]),
    "crm-integration": (0.3, ["cnt-1007"]),
    "implementation-time": (0.3, ["cnt-1008", "cnt-1009"]),
    "acme-battlecard": (0.65, ["cnt-1001"]),
    "northwind-undercut": (0.3, ["cnt-1005"]),
    "procurement-legal": (0.3, ["cnt-1010"]),
    "new-tier-demo": (0.5, ["cnt-1004", "cnt-1014"]),
}

ONBOARDING = [
    # cohort, region, segment, reps, ramp_days, ramp_target_days, cert_pass_rate, call_quality, rep_id, period
    ("2026-04", "NA", "MidMarket", 6, 88, 90, 0.86, 78, "", "2026-Q3"),
    ("2026-04", "EMEA", "SMB", 4, 71, 75, 0.9, 81, "", "2026-Q3"),
    ("2026-04", "LATAM", "SMB", 3, 77, 75, 0.84, 76, "", "2026-Q3"),
    ("2026-06", "NA", "Enterprise", 5, 96, 90, 0.81, 74, "", "2026-Q3"),
    ("2026-06", "EMEA", "Enterprise", 4, 142, 90, 0.58, 61, "", "2026-Q3"),
    ("2026-06", "APAC", "MidMarket", 3, 86, 90, 0.83, 77, "", "2026-Q3"),
    ("2026-08", "NA", "SMB", 7, 62, 60, 0.92, 82, "", "2026-Q4"),
    ("2026-08", "APAC", "Enterprise", 3, 93, 90, 0.8, 73, "", "2026-Q4"),
]

# ---------------------------------------------------------------------------------------
# Feedback text pools. Placeholders: {cust} prospect, {comp} pricing competitor, {pct},
# {amt} budget, {eur} euro amount in k, {rep} rep first name, {ref} reference customer.
FEEDBACK = {
    "pricing-pressure": [
        "{cust} said we're roughly {pct}% above what they pay today and wanted a discount before they'd even read the proposal.",
        "Price came up in the first five minutes again. Buyer thinks list is high for what they'd actually use in year one.",
        "Champion went quiet once finance saw the per-seat number. They want us closer to what {comp} quoted.",
        "[MidMarket] Every MidMarket deal this month ended in a discount conversation. I'm giving away 20-25% just to stay in the running.",
        "CFO asked why the platform fee exists at all. I didn't have a good answer beyond 'it covers support'.",
        "Buyer compared us line by line with {comp} and we came out {pct}% more expensive. Need help defending value, not just cutting price.",
        "Deal desk approval for anything over 15% takes three days; by then the buyer has cooled off.",
        "pricing objection again - 'you're the Cadillac, we need a Corolla'",
        "They like the product but the budget was set at {amt} and we're well over. Asked if we can phase seats in over two years.",
        "Procurement came back with a hard ask: match last year's price or they walk.",
        "'Too expensive' was the only reason on the loss debrief. Nobody argued with the product itself.",
        "When are multi-year discounts allowed? I keep improvising and I'm pretty sure I'm leaving money on the table.",
        "Our pricing page says 'from' but the real number is 40% higher once you add the modules they need. Buyers feel misled.",
        "Buyer: 'we love it, but not at that price.' Third time this week.",
        "End-of-quarter discounting is training buyers to wait. {cust} told me outright they'll sign on the 30th and not a day before.",
        "Need a cleaner story for why we cost more than {comp}. Right now reps just fold and discount.",
        "Renewal turned into a pricing fight; customer saw a 12% uplift and escalated to their VP.",
        "Got asked to price-match {comp}. No idea what our floor is and the pricing deck doesn't say.",
        "Add-on pricing is confusing. Spent half the call explaining bundles instead of value.",
        "Their finance team modelled three years and we're the most expensive option by a wide margin.",
        "{cust} wants 30% off to move this quarter. Max I can do is 18%. Stalemate.",
        "[EMEA] Quote was €{eur}k for 120 seats; they expected something closer to €60k.",
        "[SMB] Discount pressure is brutal in SMB. Buyers open with 'what's your best price' before discovery.",
        "Lost the tech win and the price war at the same time - buyer saw us as premium without the proof.",
        "Reps need a price-objection talk track. Mine is basically 'let me check with my manager'.",
        "Price again. Buyer wants 25% off or no deal.",
    ],
    "security-compliance": [
        "Security questionnaire from {cust} has 240 questions. Need a pre-filled version, this eats a week per deal.",
        "They want our SOC 2 Type II report before a second meeting. Took me four days to find who can share it under NDA.",
        "[EMEA] Data residency again: buyer needs all data stored in the EU and asked whether support staff outside the EU can access it.",
        "[EMEA] DPO at {cust} wants to know which subprocessors touch personal data. The list on our site is out of date.",
        "[EMEA] GDPR question I couldn't answer: how do we handle deletion requests across backups?",
        "InfoSec review stalled {cust} for six weeks. Buyer said our trust page doesn't answer basic questions.",
        "[EMEA] Do we have an EU-hosted instance or not? I've heard three different answers internally.",
        "CISO asked about pen test results and SSO enforcement. I need a short security overview that is actually current.",
        "[EMEA] Schrems II came up. I had nothing to say beyond 'we're compliant', which did not go down well.",
        "[EMEA] German prospects ask about hosting location on the very first call now. A Frankfurt region would win us deals.",
        "[Enterprise] Security review is a standard step at every Enterprise account now. We should plan for it, not treat it as an afterthought.",
        "The security one-pager still mentions SOC 2 Type I. Buyers notice.",
        "{cust} needs ISO 27001 on top of SOC 2, plus evidence of encryption at rest with customer-managed keys.",
        "Buyer asked whether we can sign their DPA as-is. Legal says no, but nobody told me what we can offer instead.",
        "[APAC] Customer asked if data can stay in Australia. Lost two weeks of momentum chasing an answer.",
        "Zoë from their IT team sent 30 follow-up questions on access logging and retention. Who owns these?",
        "A recorded walkthrough of our security architecture would help - something I can send before the InfoSec call.",
        "Procurement won't open the contract until vendor risk assessment is done, and that's blocked on our SOC 2 bridge letter.",
        "[EMEA] Works council at {cust} wants to know what employee data we process. Never had that question before.",
        "[EMEA] Data residency is the first filter for public sector in EMEA. If we can't say 'EU only' we're out.",
        "Their security team wants SAML SSO plus SCIM provisioning on the base tier. Is that possible?",
        "Buyer asked for our incident response SLA in writing. Couldn't find it anywhere in our materials.",
        "[NA] Two deals in a row asked for a HECVAT / CAIQ. We should have them ready to go.",
        "Need the SOC 2 report faster, deals are waiting on it.",
    ],
    "crm-integration": [
        "First question from {cust}: does it sync both ways with Salesforce? Ours is one-way and they saw that as a dealbreaker.",
        "[SMB,MidMarket] HubSpot integration is the #1 ask from small buyers. 'We'd buy today if it worked with HubSpot.'",
        "RevOps lead asked for custom object support in the Salesforce connector. We only do standard objects.",
        "HubSpot sync errored live in the demo. We need a sandbox that actually works.",
        "They run Dynamics, not Salesforce. I had nothing to offer beyond 'via the API'.",
        "Integration is where we lose technical buyers. They want native, not Zapier.",
        "Sales ops asked whether field mappings are configurable without professional services. Are they?",
        "Any roadmap date for HubSpot I can share? Three of my deals are waiting on it.",
        "Salesforce admin at {cust} is worried our package will burn through their API limits.",
        "Buyer wants activity data flowing back into Salesforce so managers don't need a second tool.",
        "Need a one-page integration overview. The Salesforce FAQ we have is from 2025 and still shows the old setup screen.",
        "[SMB,MidMarket] Without a HubSpot connector we're basically out of the running for anyone under 100 seats.",
        "Deduplication between our accounts and their CRM came up; couldn't explain how we handle it.",
        "Their team lives in Salesforce. If reps have to switch tabs, adoption dies. That's the whole objection.",
        "{cust} uses HubSpot for marketing and Salesforce for sales. Asked which one we'd sync with. Both, ideally.",
        "Buyer asked if the Salesforce connector supports sandboxes for testing before go-live.",
        "Integration questions keep going to the SE team because reps can't answer the basics.",
        "Lost a HubSpot shop to {comp} purely on the native integration.",
        "Salesforce sync latency came up - they need near real-time, we batch every hour.",
        "[SMB,MidMarket] HubSpot connector please. Losing small deals without it.",
    ],
    "implementation-time": [
        "[MidMarket,Enterprise] Buyer balked at the 16-week implementation plan. {comp} promised them live in four.",
        "'We can't afford a six-month project' - the IT director at {cust}.",
        "Professional services estimate scared them off. They wanted a fixed-scope quick start.",
        "[Enterprise] Implementation timeline is the new objection in Enterprise: they've been burned by long rollouts before.",
        "Customer asked for references who went live in under 8 weeks. I only had Initech.",
        "Our SOW assumes their data is clean. It never is, and buyers know that adds weeks.",
        "They want to be live before their fiscal year starts in January. Our standard plan ends in March.",
        "PS backlog is currently five weeks before kickoff. Buyer was genuinely shocked.",
        "Need a realistic timeline one-pager - the current one says 6 weeks and nobody believes it.",
        "[MidMarket,Enterprise] Champion worried about change management for 400 users and asked what our rollout playbook looks like.",
        "Implementation partner is booked out until next quarter; buyer won't wait.",
        "Buyer asked what 'go-live' means in our plan: full rollout or just a pilot team?",
        "{cust} asked for a phased rollout so one region can start in weeks, not months.",
        "Time-to-value is the question now. They want to see results in the first 30 days.",
        "Lost momentum because the implementation plan needed three internal teams on their side. Too heavy.",
        "Data migration scoping took longer than the sales cycle itself. Buyer got frustrated.",
        "Go-live timeline too long for them. We lost momentum.",
    ],
    "acme-battlecard": [
        "The Acme CRM battlecard still lists gaps they closed last year. Buyer corrected me mid-call. Embarrassing.",
        "Acme CRM just launched native forecasting; our battlecard says they don't have it.",
        "Battlecard for Acme is from early 2025. Their pricing, packaging and AI features have all changed since.",
        "Got trapped on an Acme comparison: buyer had their new pricing sheet and I had our old battlecard.",
        "Need updated landmines for Acme CRM. The old ones don't work anymore.",
        "Acme is bundling analytics free with renewals. Nothing in our competitive material about it.",
        "Who owns the Acme battlecard? Happy to contribute what I'm hearing in the field.",
        "Buyer: 'Acme says you can't do territory management.' We can, but the card doesn't tell me how to respond.",
        "Half the objection handling on the Acme card refers to a UI they replaced.",
        "Acme's new partner program came up twice this week. We need a counter.",
        "Please refresh the Acme CRM competitive intel - reps are passing around screenshots from a Reddit thread.",
        "Won against Acme at {cust}, but it came down to the SE demo. The battlecard itself was no help.",
        "New reps quote the Acme battlecard word for word and get caught out on outdated claims.",
        "Acme CRM is the incumbent in most of my accounts and our displacement story is stale.",
        "Buyer showed me Acme's comparison page about us. It's more current than ours about them.",
        "Acme has dropped their implementation fee. Battlecard still says 'Acme charges for onboarding'.",
        "Acme battlecard is out of date. Please update it.",
    ],
    "northwind-undercut": [
        "Northwind Analytics quoted {cust} at almost half our price. Buyer says the features look 'close enough'.",
        "Northwind is offering the first year free to anyone switching. Third time I've heard it.",
        "Lost to Northwind Analytics on price alone. Buyer admitted our product was better.",
        "Northwind pitches unlimited seats at a flat fee. Our per-seat model looks bad next to it.",
        "[SMB] New competitor showing up in small deals: Northwind Analytics, very aggressive on price.",
        "Buyer forwarded Northwind's proposal: {pct}% below ours and it includes onboarding.",
        "Do we have anything on Northwind? Price comparison, weaknesses, anything at all.",
        "Northwind's reps are telling prospects we're 'enterprise overkill'. It's sticking.",
        "Northwind undercut us by 40% at {cust}; we matched partially and still lost.",
        "[MidMarket] Northwind Analytics is in almost every MidMarket deal I'm working now. Need a clear total-cost position.",
        "They're pitching Northwind as the 'good enough, half price' option. Our answer has to be TCO, not features.",
        "Northwind offered a free three-month pilot. Buyer asks why we charge for ours.",
        "Northwind dropped their price again this month. Buyers are using it to anchor our discount.",
        "[APAC] Heard from a partner that Northwind is buying market share in APAC with near-zero margins.",
        "Buyer said Northwind's quote fits on one page and ours needs a spreadsheet to understand.",
        "Northwind again: half our price, and the buyer walked.",
    ],
    "roi-business-case": [
        "Champion asked for a business case template to take to her CFO. We don't have one.",
        "Need an ROI calculator. Every big deal needs a payback number and I'm building spreadsheets from scratch.",
        "CFO wanted hard numbers: hours saved, revenue impact. I had anecdotes.",
        "Buyer said 'show me the payback period' and I had nothing quantitative.",
        "Deal stalled at the budget committee because we couldn't quantify the value.",
        "Could marketing build a simple ROI model? Even a shared spreadsheet would help.",
        "Keep getting asked for benchmarks: what do similar customers see after six months?",
        "No decision again. They agreed there's a problem but couldn't justify the spend. A business case would have helped.",
        "Economic buyer at {cust} wants a one-page business case, not a deck.",
        "Borrowed a colleague's ROI spreadsheet and the formulas were broken. We need an official version.",
        "The value story is there but the numbers aren't. Buyers can't forward our pitch to finance.",
        "Finance director asked for a three-year TCO including internal effort. I guessed.",
        "Every rep is making their own ROI slide with different assumptions. That's risky in front of a CFO.",
        "Buyer asked for a cost-of-doing-nothing estimate to get budget unfrozen. Had nothing to hand them.",
        "Business case help is my #1 ask. Product is fine; justification is where deals die.",
        "ROI calculator please. CFOs keep asking for payback.",
    ],
    "procurement-legal": [
        "Legal redlines on the MSA took five weeks at {cust}. Liability cap and indemnity were the sticking points.",
        "[Enterprise] Enterprise procurement wants their own paper. Our legal team takes ten days to respond to each turn.",
        "Deal slipped to next quarter purely on contract review.",
        "Buyer asked for unlimited liability on data breach. Legal said no, with no alternative offered.",
        "Their procurement added a vendor onboarding portal step that took three weeks.",
        "We need a fallback clause library so we aren't starting from zero on every redline.",
        "Signature was ready, then their legal flagged our auto-renewal clause. Another two weeks gone.",
        "Procurement insisted on 90-day termination for convenience. Who can approve that?",
        "[Enterprise] Legal cycle is now longer than the sales cycle for Enterprise. Something has to change.",
        "Can we pre-approve common redlines (net 60, local governing law) so reps can agree on the spot?",
        "[MidMarket,Enterprise] {cust} procurement runs an RFP for anything over $100k, even with a champion. Adds 6-8 weeks.",
        "Buyer's legal wanted the DPA and MSA merged into one document. Confused everyone on both sides.",
        "Redlines came back with 80 comments. Our legal team is one person for the whole region.",
        "[MidMarket,Enterprise] Procurement is now the real decision maker in big accounts; we never meet them until the end.",
        "Insurance certificate requirements held up signature for two weeks. Nobody knew where ours was.",
        "Legal redlines again. Deal slipping to next quarter.",
    ],
    "new-tier-demo": [
        "New hires don't know how to demo the Pro Insights tier. In today's session only 2 of 9 could show the forecasting view.",
        "Still not confident on the Pro Insights demo flow. Which dataset are we supposed to use?",
        "Buyer asked what's in Pro Insights vs Standard and I fumbled it. Need a crisp comparison.",
        "Onboarding module for the new tier is mostly slides. New reps want a hands-on demo script.",
        "Certification for Pro Insights: most of the cohort failed the demo portion.",
        "Demo environment for Pro Insights keeps resetting, which makes practising impossible.",
        "Couldn't say which features need the Pro Insights license. The buyer was confused too.",
        "New rep skipped the new tier entirely because he wasn't comfortable demoing it.",
        "Can we get a 10-minute recorded Pro Insights demo from someone who has closed with it?",
        "The new tier launched but enablement didn't. Half the team is improvising the demo.",
        "New reps keep showing the old dashboards. The Pro Insights story isn't landing.",
        "Please add a Pro Insights talk track to onboarding; the module jumps straight to pricing.",
        "Roleplay on the new tier went badly - nobody could explain anomaly alerts in plain language.",
        "Pro Insights upsell conversations stall because reps can't show the value live.",
        "I'd like a certification retake on the new tier demo. First attempt was rushed.",
        "Can't demo Pro Insights confidently yet. Need practice time.",
    ],
    "monthly-billing": [
        "[SMB] Small businesses here can't pay annually upfront. They want monthly billing by card.",
        "{cust} would sign today on a monthly plan. Annual prepay is a non-starter for them.",
        "[LATAM] Buyers compare us with local tools that charge monthly in reais. Annual USD invoices kill deals.",
        "Asked deal desk for monthly invoicing; answer was annual only. Lost the deal.",
        "[SMB] SMB owners treat software like a utility bill: monthly, cancel anytime. Our terms feel heavy.",
        "Cash flow is tight for smaller customers. Quarterly or monthly payments would help a lot.",
        "[LATAM] Buyer in São Paulo asked to pay monthly via boleto or Pix. We can't do either.",
        "[SMB] Third SMB loss this month where the only issue was annual upfront payment.",
        "Could we offer monthly billing with a small premium? Customers would accept it.",
        "[SMB] Card-based monthly billing would shorten small-business cycles dramatically; nobody needs procurement for that.",
        "[LATAM] Currency swings make annual USD contracts scary for buyers in Argentina and Mexico.",
        "[SMB] They asked to start with five seats on a monthly plan and grow. We have nothing for that.",
        "[SMB] Owner of {cust} said: 'I don't sign yearly contracts for anything except rent.'",
        "[SMB] Every small prospect asks about monthly payments. It's the most common question after price.",
        "[SMB] Monthly billing would close this small deal today.",
    ],
    "misc": [
        "CPQ is painfully slow today; took 20 minutes to generate one quote.",
        "Great call with {cust} - they loved the new dashboard filters.",
        "[LATAM] Can we get swag for the Mexico City event next month? Last batch ran out.",
        "Webinar recording links in the follow-up email template are broken.",
        "[NA,LATAM] Customer asked whether the product UI is available in Spanish.",
        "Leads from the trade show were mostly students and job seekers.",
        "[APAC] Scheduling tool put the meeting in the wrong time zone for the customer in Auckland.",
        "Shout-out to the SE team for the custom demo at {cust}. Buyer was impressed.",
        "Territory reassignment confused two of my accounts; they got emails from two different reps.",
        "Mobile app crashed during the demo on the customer's tablet.",
        "[APAC] Expense tool rejects receipts in yen, please fix.",
        "A shared channel with product for quick questions would save everyone time.",
        "A partner referred a deal but nobody knows how to register it in the system.",
        "Lunch-and-learn at {cust} went well, around 25 attendees.",
    ],
}

PREFIXES = {
    "SOURCE_CALL": ["", "", "", "Call notes: ", "After today's call with {cust}: ", "Disco call - ",
                    "Follow-up call. ", "{cust} call: ", "Quick one from a demo: "],
    "SOURCE_RIDE_ALONG": ["Ride-along with {rep}: ", "Rode along on the {cust} meeting. ",
                          "Ride-along notes - ", "Observed on ride-along: ",
                          "Shadowed {rep} at {cust}. ", "Manager ride-along, {cust}. "],
    "SOURCE_ENABLEMENT_SESSION": ["From the enablement session: ", "Raised in today's cert session: ",
                                  "Roleplay feedback: ", "Came up in the {region} team huddle: ",
                                  "Q&A at the QBR training: ", "Enablement office hours - "],
    "SOURCE_OTHER": ["", "From Slack (#deal-desk): ", "Survey answer: ", "Posted in #field-feedback: ",
                     "Email to enablement: ", "Win/loss interview note: "],
}
SUFFIXES = ["Anyone else seeing this?", "Can we prioritise this?", "This is costing us deals.",
            "Flagging for the next enablement sync.", "Not urgent but it keeps coming up.",
            "Would appreciate guidance.", "Happy to jump on a call about it.",
            "Second time this month.", "Help!", "Looping in my manager.", "Same thing at {cust2} last week."]

# ---------------------------------------------------------------------------------------
# Transcript pools.
SMALL_TALK = [
    ("Hi {buyer}, thanks for making time. How was the long weekend?",
     "Good, thanks - mostly rain, but the kids had fun."),
    ("Morning! Did you make it back from the conference okay?",
     "Barely, the flight was delayed three hours. Anyway, let's get into it."),
    ("Hey, good to see you again. Still snowing over there?", "Not anymore, just grey. Shall we start?"),
    ("Before we start - congrats on the funding announcement.",
     "Thanks! It's been a busy month, which is partly why we're talking."),
    ("How's the new office working out?", "Still unpacking boxes, honestly."),
    ("Hi all, can everyone hear me okay?", "Loud and clear."),
    ("Sorry I'm a minute late, my previous call overran.", "No worries, we only just joined too."),
    ("Olá {buyer}! How are things in São Paulo?", "Busy, but good. The team is growing fast."),
    ("Guten Morgen, Herr Müller. Thanks for hosting us.", "Morning. Let's keep it to 30 minutes if we can."),
    ("How did the board meeting go last week?", "Fine. They asked a lot about costs, which is relevant today."),
    ("Happy Friday! Any plans for the weekend?", "Hiking if the weather holds. You?"),
    ("Thanks for the coffee recommendation last time, {buyer}. It was great.", "Glad to hear it."),
    ("Hi {buyer}, is this still a good time? I know it's late your side.", "It's fine, go ahead."),
    ("Did the team survive quarter close?", "Just about. Everyone's tired."),
]
TRANSITIONS = [
    "So, last time you mentioned a few concerns. Where did the team land?",
    "Great. I wanted to pick up where we left off after the demo.",
    "Let's dive in. What feedback did you get internally?",
    "Okay, let me share my screen. Before I do, anything changed on your side?",
    "I sent the proposal on Tuesday. Any first reactions?",
    "Shall we go through the open questions from your team?",
]
BUYER_OBJ = {
    "pricing-pressure": [
        "Honestly, the number is the problem. You're about {pct}% above what we budgeted.",
        "[EMEA] Your quote came in at €{eur}k. Our ceiling is well below that, and {comp} is cheaper.",
        "We like the product, but I can't defend that per-seat price to finance.",
        "Why is there a platform fee on top of the seats? Nobody else charges that.",
        "If you can't get closer to {comp}, I don't see how this gets approved.",
    ],
    "security-compliance": [
        "Our security team won't move until they see your SOC 2 Type II report.",
        "[EMEA] Where exactly is our data stored? We need everything in the EU, backups included.",
        "[APAC] Can the data stay in Australia? Our board is strict about that.",
        "[NA] Our CISO wants SSO enforcement and your latest pen test summary before we go further.",
        "[EMEA] Our DPO has questions about your subprocessors. Some of them are in the US.",
        "[EMEA] Can your support staff access our data from outside the EEA? That's a blocker for us.",
        "We'll need you to complete our vendor security questionnaire. It's fairly long.",
    ],
    "crm-integration": [
        "Does this sync both ways with Salesforce? Our reps won't update two systems.",
        "We're on HubSpot. Is there a native connector or are we looking at Zapier?",
        "Our Salesforce org has a lot of custom objects. Will your connector handle them?",
        "I'm worried about API limits. Our admin says we're already close.",
    ],
    "implementation-time": [
        "Sixteen weeks to go live feels long. What can you do faster?",
        "We don't have an internal team to run a big implementation right now.",
        "We need to be live before January. Is that realistic with your backlog?",
        "The services estimate was almost as much as the licence. Why so heavy?",
    ],
    "acme-battlecard": [
        "Acme CRM showed us forecasting last week, and it looked very similar to yours.",
        "We already have Acme. Help me understand why we'd switch.",
        "Acme told us you don't support territory management. Is that true?",
        "Acme is throwing analytics into our renewal for free. Hard to compete with that.",
    ],
    "northwind-undercut": [
        "Northwind Analytics quoted us about half of what you did.",
        "Northwind is offering us the first year free. Can you match that?",
        "To be frank, Northwind looks good enough for what we need, and it's a lot cheaper.",
        "Northwind includes onboarding in their price. Yours is extra.",
    ],
    "roi-business-case": [
        "I need something I can take to my CFO. What's the payback period?",
        "Can you help me build the business case? I can't get budget on a demo alone.",
        "What do customers like us actually save? I need numbers, not logos.",
        "We agree on the problem. The question is whether it's worth fixing this year.",
    ],
    "procurement-legal": [
        "Our legal team has redlines on the liability cap and indemnity.",
        "Anything over six figures has to go through an RFP, I'm afraid.",
        "Procurement requires a 90-day termination for convenience clause.",
        "We can't accept auto-renewal. Legal will strike it.",
    ],
    "new-tier-demo": [
        "What exactly do we get with Pro Insights that we don't get in Standard?",
        "Can you show me the forecasting piece of the new tier? That's what caught my eye.",
        "Which of these features need the higher licence?",
    ],
    "monthly-billing": [
        "Can we pay monthly? An annual invoice upfront is hard for a business our size.",
        "We'd prefer to pay in local currency, monthly, by card.",
        "Can we start with five seats on a monthly plan and add more later?",
    ],
}
REP_RESP = {
    "pricing-pressure": [
        "Understood. Let me see what flexibility I have, and I'd like to walk through what you'd get for that difference.",
        "Fair point. Can we look at a phased rollout so year one fits the budget?",
        "I hear you. Let me take it to my deal desk and come back with options.",
    ],
    "security-compliance": [
        "Happy to. I'll loop in our security team and get you the documentation under NDA this week.",
        "Good question. Let me confirm the details in writing rather than guess.",
        "Let me bring our security lead onto the next call so you get precise answers.",
    ],
    "crm-integration": [
        "Let me get our SE to go through exactly what the connector does today.",
        "Honest answer: it's not fully there yet. I don't want to promise a date I can't stand behind.",
        "Let me set up a session with your admin and our solutions engineer.",
    ],
    "implementation-time": [
        "There's a quick-start option with a smaller scope; let me check if it fits you.",
        "That's a fair concern. Initech went live in six weeks with a phased approach.",
        "Let me get our services lead to rework the plan around your timeline.",
    ],
    "acme-battlecard": [
        "Good question. Their new release did change a few things, let me come back with a proper comparison.",
        "Let me show you a couple of things instead of just talking about it.",
        "I'd rather not guess about their roadmap. I'll send you something concrete.",
    ],
    "northwind-undercut": [
        "They are cheaper upfront, no question. I'd like to look at the three-year picture with you.",
        "I can't match their price, but let's talk about what the first year actually costs you to run.",
        "Happy to do a side-by-side. Where does Northwind fall short for your team today?",
    ],
    "roi-business-case": [
        "Let me put together some numbers. What metrics does your CFO care about most?",
        "We don't have a formal calculator, but I can build a model with your data.",
        "I can share what other customers reported, though every case is a bit different.",
    ],
    "procurement-legal": [
        "Understood. Send over your requirements and I'll get our legal team on them this week.",
        "Understood. Can you share the timeline so we can plan around it?",
        "I'll check what we can do. Changes like that need approval on our side.",
    ],
    "new-tier-demo": [
        "Good question. Let me pull up... actually, let me get my SE to show the forecasting piece properly.",
        "Pro Insights adds forecasting and alerts. I'll send a comparison sheet after the call.",
        "Let me double-check the licence breakdown so I don't tell you something wrong.",
    ],
    "monthly-billing": [
        "Today we bill annually, but let me ask whether there's any flexibility.",
        "I understand. I'll ask finance if quarterly payments are an option.",
        "Let me see what I can do. I know this comes up a lot with businesses your size.",
    ],
}
BUYER_FOLLOW = {
    "pricing-pressure": ["Please do. Without movement on price this won't get signed this quarter.",
                         "Okay, but keep in mind we have another proposal on the table."],
    "security-compliance": ["That would help. Our review usually takes four to six weeks once we have documents.",
                            "Please do. Verbal answers won't get past our security team."],
    "crm-integration": ["If it isn't native and two-way, it's going to be a hard sell internally.",
                        "If it's not native, I'd need to budget for middleware too."],
    "implementation-time": ["We've been burned by long rollouts before. I need confidence on this.",
                            "Okay. I'd want to speak to a reference who did it that fast."],
    "acme-battlecard": ["Please do. Their rep was very specific about where you're weaker.",
                        "I'd like that. Right now it's hard to tell you apart."],
    "northwind-undercut": ["Fine, but the gap is big. Finance will just look at year one.",
                           "Sure, but 'better' has to be worth double."],
    "roi-business-case": ["Time saved per rep and forecast accuracy, mainly.",
                          "Anything in writing that I can forward would be great."],
    "procurement-legal": ["Our legal usually takes two weeks per round, just so you know.",
                          "Procurement won't move without it."],
    "new-tier-demo": ["Okay. I was hoping to see it today, to be honest.",
                      "A comparison would help. I'm still not clear on the difference."],
    "monthly-billing": ["Please check. We'd sign quickly if we could pay monthly.",
                        "Even quarterly would be a big help."],
}
OTHER_LINES = {
    "security-compliance": "This is Maya from solutions engineering. I'll send our architecture note; it covers hosting regions, encryption and access controls.",
    "crm-integration": "Solutions engineer here. Custom objects are supported via the API today; native support is planned.",
    "implementation-time": "From the services side: a phased rollout could get your first team live in about six weeks.",
    "new-tier-demo": "Let me share my screen. This is the Pro Insights forecast view with your sample data loaded.",
    "procurement-legal": "Partner here. We've been through their procurement portal before; I can help with the vendor forms.",
}
BRIDGES = [
    "Noted. Anything else on your list?",
    "Understood. What else came up internally?",
    "Got it. Is there anything else blocking this?",
    "Okay, I'll take that back. Anything else?",
]
REP_CLOSE = [
    "Thanks, {buyer}. I'll send a recap and next steps by Thursday.",
    "Great, I'll follow up with the material we discussed.",
    "Let's book 30 minutes next week once I have answers.",
    "Appreciate the candour. I'll come back with options.",
]
BUYER_CLOSE = [
    "Sounds good. Send it over and we'll review internally.",
    "Thanks. Talk next week.",
    "Okay. I need to run to another meeting, but email me.",
    "Great, thanks for your time.",
]

# ---------------------------------------------------------------------------------------
# Win/loss pools.
WL_OBJECTIONS = {
    "pricing-pressure": ["You're about 30% more expensive than what we pay today.",
                         "We can't justify the platform fee on top of per-seat pricing.",
                         "Finance won't approve anything above our budget line.",
                         "Other vendors offered bigger discounts for a multi-year term."],
    "security-compliance": ["[EMEA] We need all customer data to stay in the EU, including backups.",
                            "[APAC] Our data has to stay in Australia and you couldn't confirm that.",
                            "Our InfoSec team needs your SOC 2 Type II report before anything else.",
                            "[EMEA] Your subprocessor list doesn't meet what our DPO requires.",
                            "[EMEA] We can't accept support access from outside the EEA."],
    "crm-integration": ["If it doesn't sync both ways with Salesforce, our reps won't use it.",
                        "We run on HubSpot; without a native connector this is a non-starter.",
                        "We don't want to pay for middleware just to connect our CRM."],
    "implementation-time": ["Sixteen weeks to go live is too long for us.",
                            "We don't have the internal people to run a project this size.",
                            "We need to be live before our fiscal year starts."],
    "acme-battlecard": ["Acme CRM already gives us forecasting in the bundle we have.",
                        "Switching away from Acme isn't worth the disruption for what you add.",
                        "The comparison your rep showed didn't match what Acme demoed to us."],
    "northwind-undercut": ["Northwind Analytics is half the price and close enough for our needs.",
                           "Northwind offered the first year free.",
                           "Northwind includes onboarding at no extra cost."],
    "roi-business-case": ["We couldn't build a business case our CFO would sign.",
                          "I can't tell my board what the payback period is.",
                          "We agree there's a problem, but not that it's worth this much to fix now."],
    "procurement-legal": ["Our legal team can't accept your liability cap.",
                          "This has to go through our standard RFP process.",
                          "We require 90-day termination for convenience.",
                          "Auto-renewal clauses are not allowed under our policy."],
    "new-tier-demo": ["We never saw what Pro Insights actually adds over Standard.",
                      "We weren't sure which features need the higher tier."],
    "monthly-billing": ["We can't pay a full year upfront.",
                        "We need monthly billing in local currency.",
                        "A card-based monthly plan would have been an easy yes."],
}
WL_PROOF_WON = {
    "pricing-pressure": ["Side-by-side three-year TCO showed a lower total cost despite higher list price",
                         "Cut onboarding time 40% at Initech"],
    "security-compliance": ["SOC 2 Type II report shared under NDA on day one",
                            "[EMEA] EU data residency confirmed in writing (Frankfurt region)"],
    "crm-integration": ["Salesforce sync demoed on the buyer's own sandbox",
                        "Field mappings configured live without services"],
    "implementation-time": ["Initech went live in 6 weeks with the quick-start package",
                            "Phased rollout plan with first team live in 30 days"],
    "acme-battlecard": ["Territory management demo answered Acme's claim directly",
                        "Brightwater Health consolidated 3 tools into one, saving $210k a year"],
    "northwind-undercut": ["Side-by-side TCO vs Northwind over three years",
                           "Nakamura Logistics raised forecast accuracy from 68% to 89%"],
    "roi-business-case": ["Payback in under 7 months using the customer's own numbers",
                          "Pampas Agro reduced admin by 12 hours per rep per month"],
    "procurement-legal": ["Pre-approved fallback on liability cap accepted in first round",
                          "Reference call with a bank of similar size"],
    "new-tier-demo": ["Pro Insights forecasting demo on live data"],
    "monthly-billing": ["Quarterly payment schedule approved as an exception"],
}
WL_PROOF_MISSING = {
    "pricing-pressure": "Missing: no value story to defend the price gap",
    "security-compliance": "Missing: no reference customer with the same compliance requirements",
    "crm-integration": "Missing: no HubSpot integration story",
    "implementation-time": "Missing: no reference who went live in under 8 weeks",
    "acme-battlecard": "Missing: no current Acme CRM comparison",
    "northwind-undercut": "Missing: no TCO comparison against Northwind",
    "roi-business-case": "Missing: no ROI or payback model for the CFO",
    "procurement-legal": "Missing: no pre-approved fallback clauses",
    "new-tier-demo": "Missing: no confident Pro Insights demo",
    "monthly-billing": "Missing: no monthly plan to offer",
}
WL_STORIES_WON = ["Initech rollout in 6 weeks", "Brightwater Health tool consolidation",
                  "Nakamura Logistics forecasting turnaround", "Pampas Agro SMB expansion across 4 branches",
                  "Helios Energie EU data residency rollout"]
WL_STORIES_ASKED = {
    "monthly-billing": ["[LATAM] Asked for: a LATAM SMB reference on monthly terms (none available)",
                        "[NA,EMEA,APAC] Asked for: a small-business reference on monthly terms (none available)"],
    "security-compliance": ["[EMEA] Asked for: an EU-hosted reference in a regulated industry (none available)",
                            "[NA,APAC,LATAM] Asked for: a reference that passed a bank-grade security review"],
    "implementation-time": ["Asked for: a reference live in under 8 weeks outside Initech"],
    "procurement-legal": ["Asked for: an Enterprise bank reference (none available in region)"],
}
THEME_LABEL = {
    "pricing-pressure": "pricing and discounting",
    "security-compliance": "security review",
    "crm-integration": "CRM integration",
    "implementation-time": "implementation timeline",
    "acme-battlecard": "Acme CRM comparison",
    "northwind-undercut": "Northwind pricing",
    "roi-business-case": "business case / ROI",
    "procurement-legal": "legal and procurement",
    "new-tier-demo": "Pro Insights demo",
    "monthly-billing": "monthly billing",
}
WL_SUMMARY = {
    "pricing-pressure": ("lost on price; the buyer never got past the gap to the cheaper quote",
                         "won despite pricing pushback once the three-year cost view landed with finance",
                         "stalled after the quote; finance would not release budget at that price"),
    "security-compliance": ("stalled in InfoSec review and never recovered",
                            "won after security documentation was delivered early in the review",
                            "security review never completed, so the project was shelved"),
    "crm-integration": ("lost because the CRM integration was not native or two-way",
                        "won once the Salesforce sync was proven on the buyer's own sandbox",
                        "buyer decided to wait for a native CRM connector"),
    "implementation-time": ("lost on implementation timeline; a faster go-live was promised elsewhere",
                            "won with a phased rollout that shortened time to first value",
                            "buyer could not staff the implementation this year"),
    "acme-battlecard": ("lost to Acme CRM; our comparison was out of date and the buyer noticed",
                        "won the Acme displacement on a strong SE demo",
                        "buyer stayed on Acme CRM rather than switch"),
    "northwind-undercut": ("lost to Northwind Analytics on price",
                           "won against Northwind Analytics on total cost and depth of forecasting",
                           "Northwind's low offer froze the decision"),
    "roi-business-case": ("lost because the champion could not build a business case for the CFO",
                          "won after a payback model built with the customer's numbers",
                          "no business case, so the status quo won"),
    "procurement-legal": ("lost in procurement after weeks of legal redlines",
                          "won after legal agreed fallback positions quickly",
                          "contract review dragged past the budget deadline"),
    "new-tier-demo": ("lost after a weak Pro Insights demo",
                      "won on the Pro Insights forecasting demo",
                      "buyer was unclear on the tier differences and paused"),
    "monthly-billing": ("lost because we could only offer annual upfront billing",
                        "won with an exception for quarterly payments",
                        "owner would not commit to an annual prepay"),
}

# ---------------------------------------------------------------------------------------

rng = random.Random(SEED)


MARKER = re.compile(r"^\[([A-Za-z,]+)\] ")


def parse_marker(text):
    """'[EMEA,SMB] text' -> (allowed regions or None, allowed segments or None, text)."""
    m = MARKER.match(text)
    if not m:
        return None, None, text
    tags = m.group(1).split(",")
    regions = [t for t in tags if t in REGIONS] or None
    segments = [t for t in tags if t in SEGMENTS] or None
    return regions, segments, text[m.end():]


def fits(text, region, segment):
    regions, segments, _ = parse_marker(text)
    return (regions is None or region in regions) and (segments is None or segment in segments)


def choose(pool, region, segment):
    """Random entry of pool whose marker allows (region, segment), marker stripped."""
    ok = [t for t in pool if fits(t, region, segment)]
    return parse_marker(rng.choice(ok))[2]


def weighted_choice(items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def pick_region(theme, allowed=None):
    aff = THEMES[theme][1]
    return weighted_choice(REGIONS, [REGION_SHARE[r] * a * (allowed is None or r in allowed)
                                     for r, a in zip(REGIONS, aff)])


def pick_segment(theme, allowed=None):
    aff = THEMES[theme][2]
    return weighted_choice(SEGMENTS, [SEGMENT_SHARE[s] * a * (allowed is None or s in allowed)
                                      for s, a in zip(SEGMENTS, aff)])


def pick_rep(region, segment):
    in_region = [r for r in REPS if r[2] == region]
    matching = [r for r in in_region if r[3] == segment]
    if matching and rng.random() < 0.85:
        return rng.choice(matching)[0]
    return rng.choice(in_region)[0]


def weekday(d):
    """Move a weekend date to a weekday, staying inside [START, END]."""
    if d.weekday() == 5:
        d -= dt.timedelta(days=1)
    elif d.weekday() == 6:
        d += dt.timedelta(days=1)
    if d > END:
        d -= dt.timedelta(days=3)
    if d < START:
        d += dt.timedelta(days=2)
    return d


def random_date(lo=START, hi=END, mode=None):
    span = (hi - lo).days
    if mode is None:
        off = rng.randint(0, span)
    else:
        off = int(round(rng.triangular(0, span, mode * span)))
    return weekday(lo + dt.timedelta(days=off))


UTC_HOURS = {"NA": (14, 23), "EMEA": (7, 17), "APAC": (0, 9), "LATAM": (12, 21)}


def timestamp(d, region):
    lo, hi = UTC_HOURS[region]
    h = rng.randint(lo, hi)
    m = rng.choice(range(0, 60, 5)) if rng.random() < 0.6 else rng.randint(0, 59)
    s = 0 if rng.random() < 0.7 else rng.randint(0, 59)
    return "%sT%02d:%02d:%02dZ" % (d.isoformat(), h, m, s)


def theme_date(theme):
    if theme == "new-tier-demo":
        return random_date(NEW_TIER_LAUNCH, END)
    if theme == "northwind-undercut":
        return random_date(mode=0.85)
    if theme == "acme-battlecard":
        return random_date(mode=0.6)
    return random_date()


def fill(text, region, rep_id):
    custs = []  # one prospect per text for {cust}; {cust2} is a different one

    def sub(m):
        key = m.group(1)
        if key in ("cust", "cust2"):
            if not custs:
                custs.extend(rng.sample(PROSPECTS[region], 2))
            return custs[0] if key == "cust" else custs[1]
        if key == "comp":
            return rng.choice(["Acme CRM", "Globex Suite", "Acme CRM", "the incumbent"])
        if key == "pct":
            return str(rng.choice([15, 18, 20, 22, 25, 28, 30, 35, 40]))
        if key == "amt":
            return "$" + str(rng.choice([25, 40, 60, 75, 90, 120])) + "k"
        if key == "eur":
            return str(rng.choice([84, 95, 110, 126, 140]))
        if key == "rep":
            return REP_FIRST[rep_id]
        if key == "buyer":
            return rng.choice(BUYERS[region])
        if key == "region":
            return region
        raise KeyError(key)
    out = re.sub(r"\{(\w+)\}", sub, text)
    return re.sub(r"([.!?] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)


def words(s):
    return len(s.split())


# ---------------------------------------------------------------------------------------
# Win/loss deals first, so feedback and transcripts can refer to them.

def pick_deal_themes(region, segment, closed):
    names = [t for t in THEMES if t != "misc"]
    weights = []
    for t in names:
        _, raff, saff = THEMES[t]
        w = raff[REGIONS.index(region)] * saff[SEGMENTS.index(segment)]
        if t == "new-tier-demo" and closed < dt.date(2026, 8, 10):
            w = 0
        weights.append(w)
    k = weighted_choice([1, 2, 3], [3, 4, 2])
    chosen = []
    for _ in range(k):
        t = weighted_choice(names, weights)
        if t not in chosen:
            chosen.append(t)
        weights[names.index(t)] = 0
        if not any(weights):
            break
    return chosen


def amount_for(segment):
    if segment == "SMB":
        return rng.randrange(8000, 40001, 500)
    if segment == "MidMarket":
        return rng.randrange(30000, 160001, 1000)
    return rng.randrange(120000, 450001, 5000)


def make_deals():
    outcomes = ["OUTCOME_LOST"] * 30 + ["OUTCOME_WON"] * 21 + ["OUTCOME_NO_DECISION"] * 14
    rng.shuffle(outcomes)
    deal_nums = rng.sample(range(10000, 99999), len(outcomes) + 30)
    deals = []
    for i, outcome in enumerate(outcomes):
        region = weighted_choice(REGIONS, [REGION_SHARE[r] for r in REGIONS])
        segment = weighted_choice(SEGMENTS, [SEGMENT_SHARE[s] for s in SEGMENTS])
        closed = random_date(dt.date(2026, 4, 20), END)
        themes = pick_deal_themes(region, segment, closed)
        rep = pick_rep(region, segment)
        amount = amount_for(segment)
        currency = "EUR" if region == "EMEA" and rng.random() < 0.4 else "USD"

        competitors = []
        if "acme-battlecard" in themes:
            competitors.append("Acme CRM")
        if "northwind-undercut" in themes:
            competitors.append("Northwind Analytics")
        if not competitors:
            r = rng.random()
            if r < 0.35:
                pass
            elif r < 0.8:
                competitors.append(rng.choice(["Acme CRM", "Northwind Analytics", "Globex Suite"]))
            else:
                competitors = rng.sample(["Acme CRM", "Northwind Analytics", "Globex Suite"], 2)
        elif len(competitors) == 1 and rng.random() < 0.25:
            competitors.append("Globex Suite")

        objections = []
        for t in themes:
            objections.append(choose(WL_OBJECTIONS[t], region, segment))
        objections = objections[:3]

        proof, stories = [], []
        if outcome == "OUTCOME_WON":
            for t in themes[:2]:
                proof.append(choose(WL_PROOF_WON[t], region, segment))
            stories = rng.sample(WL_STORIES_WON, rng.choice([1, 1, 2]))
        else:
            if rng.random() < 0.6:
                proof.append(WL_PROOF_MISSING[themes[0]])
            asked = [choose(WL_STORIES_ASKED[t], region, segment) for t in themes if t in WL_STORIES_ASKED]
            if asked and rng.random() < 0.7:
                stories.append(asked[0])
            elif rng.random() < 0.3:
                stories.append(rng.choice(WL_STORIES_WON))
        proof = list(dict.fromkeys(proof))

        idx = {"OUTCOME_LOST": 0, "OUTCOME_WON": 1, "OUTCOME_NO_DECISION": 2}[outcome]
        cust = rng.choice(PROSPECTS[region])
        head = {"OUTCOME_LOST": "Closed lost", "OUTCOME_WON": "Closed won",
                "OUTCOME_NO_DECISION": "No decision"}[outcome]
        summary = "%s at %s: %s." % (head, cust, WL_SUMMARY[themes[0]][idx])
        if len(themes) > 1:
            summary += " Also raised: %s." % ", ".join(THEME_LABEL[t] for t in themes[1:])
        summary += " Cycle length %d days." % rng.randrange(21, 190 if segment == "Enterprise" else 120)
        if competitors:
            summary += " Competitors: %s." % " and ".join(competitors)
        if currency == "EUR" and rng.random() < 0.5:
            summary += " Final quote €%s." % format(amount, ",")

        deals.append({
            "deal_id": "opp-%d" % deal_nums[i],
            "closed": closed, "region": region, "segment": segment, "themes": themes,
            "rep": rep, "note": {
                "win_loss_note": {
                    "id": None,  # assigned after sorting
                    "initiative": INITIATIVE,
                    "deal_id": "opp-%d" % deal_nums[i],
                    "outcome": outcome,
                    "amount": amount,
                    "currency": currency,
                    "region": region,
                    "segment": segment,
                    "competitors": competitors,
                    "objections": objections,
                    "proof_points": proof,
                    "customer_stories": stories,
                    "summary": summary,
                    "closed_at": closed.isoformat() + "T00:00:00Z",
                }
            }})
    deals.sort(key=lambda d: (d["closed"], d["deal_id"]))
    for i, d in enumerate(deals, 1):
        d["note"]["win_loss_note"]["id"] = "wl-q3-%03d" % i
        note = d["note"]["win_loss_note"]
        for k in ("competitors", "proof_points", "customer_stories"):
            if not note[k]:
                del note[k]
    open_deals = ["opp-%d" % n for n in deal_nums[len(outcomes):]]
    return deals, open_deals


def link_deal(theme, region, segment, deals, open_deals, p):
    """Maybe tie a record to a deal. Returns (deal_id, rep or None, date or None)."""
    if rng.random() >= p:
        return None, None, None
    cands = [d for d in deals if d["region"] == region and d["segment"] == segment
             and theme in d["themes"]]
    if not cands:
        cands = [d for d in deals if d["region"] == region and d["segment"] == segment]
    if cands and rng.random() < 0.82:
        d = rng.choice(cands)
        lo = max(START, d["closed"] - dt.timedelta(days=75))
        hi = d["closed"] - dt.timedelta(days=3)
        if theme == "new-tier-demo":
            lo = max(lo, NEW_TIER_LAUNCH)
        if lo <= hi:
            return d["deal_id"], d["rep"], random_date(lo, hi)
    return rng.choice(open_deals), None, None


# ---------------------------------------------------------------------------------------

def make_feedback(deals, open_deals):
    themes = []
    for t, (n, _, _) in THEMES.items():
        themes += [t] * n
    rng.shuffle(themes)
    used_texts = set()
    pool_use = {t: [] for t in FEEDBACK}
    out = []
    for theme in themes:
        # Cycle through the pool so every phrasing gets used before repeats; the phrasing
        # is chosen first because some are specific to a region or segment.
        if not pool_use[theme]:
            pool_use[theme] = list(range(len(FEEDBACK[theme])))
            rng.shuffle(pool_use[theme])
        regions, segments, base = parse_marker(FEEDBACK[theme][pool_use[theme].pop()])
        region = pick_region(theme, regions)
        segment = pick_segment(theme, segments)
        deal_id, rep, date = (None, None, None)
        if theme != "misc":
            deal_id, rep, date = link_deal(theme, region, segment, deals, open_deals, 0.35)
        rep = rep or pick_rep(region, segment)
        date = date or theme_date(theme)
        source = weighted_choice(SOURCES, SOURCE_WEIGHTS.get(theme, DEFAULT_SOURCE_WEIGHTS))

        for _ in range(50):
            body = base
            if rng.random() < 0.18:
                # Longer note: a second, related observation from the same theme.
                extra = choose([t for t in FEEDBACK[theme] if parse_marker(t)[2] != base],
                               region, segment)
                body = base + " " + extra
            text = rng.choice(PREFIXES[source]) + body
            if rng.random() < 0.3:
                text += " " + rng.choice(SUFFIXES)
            text = fill(text, region, rep)
            if rng.random() < 0.05:
                text = text[0].lower() + text[1:]
            if 8 <= words(text) <= 60 and text not in used_texts:
                break
        else:
            raise RuntimeError("could not make a unique text for " + theme)
        used_texts.add(text)

        ev = {
            "id": None,
            "initiative": INITIATIVE,
            "source": source,
            "rep_id": rep,
            "region": region,
            "segment": segment,
            "occurred_at": timestamp(date, region),
            "text": text,
        }
        if deal_id:
            ev["deal_id"] = deal_id
        if theme in THEME_ASSETS:
            p, ids = THEME_ASSETS[theme]
            if rng.random() < p:
                ev["asset_ids"] = sorted(rng.sample(ids, rng.choice([1, 1, 1, 2]) if len(ids) > 1 else 1))
        out.append((theme, ev))

    # Manual theme tags on a handful of events (as an enablement manager would add).
    taggable = [i for i, (t, _) in enumerate(out) if t != "misc"]
    for i in rng.sample(taggable, N_THEME_TAGS):
        out[i][1]["theme_tag"] = out[i][0]
    return out


def make_transcripts(deals, open_deals):
    names = [t for t in THEMES if t != "misc"]
    weights = [THEMES[t][0] for t in names]
    out = []
    for _ in range(N_TRANSCRIPTS):
        theme = weighted_choice(names, weights)
        region = pick_region(theme)
        segment = pick_segment(theme)
        deal_id, rep, date = link_deal(theme, region, segment, deals, open_deals, 0.55)
        rep = rep or pick_rep(region, segment)
        date = date or theme_date(theme)

        def f(s):
            return fill(s, region, rep)

        turns = []
        # Small talk (sometimes skipped, sometimes two rounds).
        if rng.random() < 0.85:
            st = SMALL_TALK[:]
            if region != "LATAM":
                st = [p for p in st if "São Paulo" not in p[0]]
            if region != "EMEA":
                st = [p for p in st if "Müller" not in p[0]]
            for r, b in rng.sample(st, 2 if rng.random() < 0.2 else 1):
                turns.append(("SPEAKER_REP", f(r)))
                turns.append(("SPEAKER_BUYER", f(b)))
        if turns or rng.random() < 0.5:
            turns.append(("SPEAKER_REP", rng.choice(TRANSITIONS)))
        # Objection block(s).
        blocks = [theme]
        if rng.random() < 0.3:
            second = weighted_choice(names, weights)
            if second != theme and not (second == "new-tier-demo" and date < NEW_TIER_LAUNCH):
                blocks.append(second)
        for t in blocks:
            if turns and turns[-1][0] != "SPEAKER_REP":
                turns.append(("SPEAKER_REP", rng.choice(BRIDGES)))
            turns.append(("SPEAKER_BUYER", f(choose(BUYER_OBJ[t], region, segment))))
            turns.append(("SPEAKER_REP", f(rng.choice(REP_RESP[t]))))
            if rng.random() < 0.6:
                turns.append(("SPEAKER_BUYER", f(rng.choice(BUYER_FOLLOW[t]))))
            if t in OTHER_LINES and rng.random() < 0.35:
                turns.append(("SPEAKER_OTHER", OTHER_LINES[t]))
        if rng.random() < 0.7:
            if turns[-1][0] != "SPEAKER_REP":
                turns.append(("SPEAKER_REP", f(rng.choice(REP_CLOSE))))
            if turns[-1][0] != "SPEAKER_BUYER" and rng.random() < 0.8:
                turns.append(("SPEAKER_BUYER", rng.choice(BUYER_CLOSE)))
        # Keep 3..10 turns: drop small talk from the front if too long.
        # A rep never speaks twice in a row: merge consecutive rep turns.
        merged = []
        for s, t in turns:
            if merged and merged[-1][0] == s == "SPEAKER_REP":
                merged[-1] = (s, merged[-1][1] + " " + t)
            else:
                merged.append((s, t))
        turns = merged
        while len(turns) > 10:
            del turns[-1]
        while len(turns) < 3:
            turns.append(("SPEAKER_BUYER", rng.choice(BUYER_CLOSE)))

        tr = {
            "id": None,
            "initiative": INITIATIVE,
            "rep_id": rep,
            "region": region,
            "segment": segment,
            "occurred_at": timestamp(date, region),
        }
        if deal_id:
            tr["deal_id"] = deal_id
        tr["utterances"] = [{"speaker": s, "text": t} for s, t in turns]
        out.append(tr)
    return out


# ---------------------------------------------------------------------------------------

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) + "\n")


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, INITIATIVE)
    os.makedirs(outdir, exist_ok=True)

    deals, open_deals = make_deals()
    planted = make_feedback(deals, open_deals)
    feedback = [ev for _, ev in planted]
    transcripts = make_transcripts(deals, open_deals)

    feedback.sort(key=lambda e: (e["occurred_at"], e["rep_id"], e["text"]))
    for i, ev in enumerate(feedback, 1):
        ev["id"] = "fb-q3-%04d" % i
    transcripts.sort(key=lambda t: (t["occurred_at"], t["rep_id"]))
    for i, tr in enumerate(transcripts, 1):
        tr["id"] = "tr-q3-%04d" % i

    lines = [(e["occurred_at"], 0, {"feedback_event": e}) for e in feedback]
    lines += [(t["occurred_at"], 1, {"call_transcript": t}) for t in transcripts]
    lines.sort(key=lambda x: (x[0], x[1]))
    write_jsonl(os.path.join(outdir, "feedback.jsonl"), [x[2] for x in lines])
    write_jsonl(os.path.join(outdir, "win_loss.jsonl"), [d["note"] for d in deals])

    write_csv(os.path.join(outdir, "content_inventory.csv"),
              ["asset_id", "title", "type", "owner", "last_updated", "tags", "url"],
              [a + ("https://enablement.fieldloop.example/assets/" + a[0],) for a in ASSETS])
    write_csv(os.path.join(outdir, "onboarding_metrics.csv"),
              ["cohort", "region", "segment", "reps", "ramp_days", "ramp_target_days",
               "cert_pass_rate", "call_quality", "rep_id", "period"],
              ONBOARDING)

    # The answer key: the planted theme of every feedback event, for measuring how well the
    # clusterer recovers them (tests/pipeline/example_themes_test.cc). Written last, from
    # data already made, so it draws nothing from the random generator.
    write_csv(os.path.join(outdir, "planted_themes.csv"), ["id", "theme"],
              sorted((ev["id"], t) for t, ev in planted))

    # Planted themes of the feedback events (stdout only, for checking clustering by eye).
    print("%-20s %5s  %-28s %s" % ("theme", "n", "NA/EMEA/APAC/LATAM", "SMB/MidMarket/Enterprise"))
    for theme in THEMES:
        evs = [ev for t, ev in planted if t == theme]
        print("%-20s %5d  %-28s %s" % (
            theme, len(evs), "/".join(str(sum(e["region"] == r for e in evs)) for r in REGIONS),
            "/".join(str(sum(e["segment"] == g for e in evs)) for g in SEGMENTS)))
    print("feedback_event: %d, call_transcript: %d, win_loss_note: %d, content_asset: %d, "
          "onboarding_metric: %d" % (len(feedback), len(transcripts), len(deals), len(ASSETS),
                                     len(ONBOARDING)))


if __name__ == "__main__":
    main()
