"""The words of the demo history: names, titles, notes, replies and the like."""

_GIVEN_NAMES = """
Wei Fang Min Jing Lei Yan Jun Hui Tao Ling Qiang Xia Bo Na Hao Li Ying Chen Yu Xin
Anna Ben Clara David Emma Felix Grace Henry Iris Jack Kate Leo Maria Noah Olga Paul
Rosa Sam Tina Omar
"""
_FAMILY_NAMES = """
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao
Smith Jones Brown Garcia Muller Rossi Silva Novak Berg Khan
"""
GIVEN = tuple(_GIVEN_NAMES.split())
FAMILY = tuple(_FAMILY_NAMES.split())
DEPARTMENTS = (
    "Finance",
    "Sales",
    "Marketing",
    "Human Resources",
    "Logistics",
    "Manufacturing",
    "Legal",
    "Procurement",
    "Research",
    "Customer Care",
    "Executive Office",
    "Quality",
)

INCIDENT_CATEGORIES = {
    "hardware": ("laptop will not boot", "monitor flickering", "docking station not detected"),
    "software": ("application crashes on start", "update failed", "licence expired error"),
    "network": ("VPN disconnects every few minutes", "Wi-Fi drops on floor 3", "slow network"),
    "access": ("account locked out", "cannot log in", "missing permissions"),
    "email": ("mail stuck in outbox", "calendar not syncing", "mailbox full"),
    "printing": ("printer offline", "print jobs stuck in queue", "scanner to e-mail fails"),
    "database": ("report query times out", "deadlock errors in logs", "replication lag"),
    "performance": ("pages load slowly", "timeouts under load", "high CPU on server"),
}
SYMPTOM_DETAIL = (
    "The user reports the problem started this morning after a restart.",
    "Several colleagues in the same office see the same behaviour.",
    "It happens intermittently, roughly every hour.",
    "An error code is shown on screen; screenshot attached by the requester.",
    "Work is blocked until this is fixed; a deadline is due today.",
    "Clearing the cache and signing in again did not help.",
    "It worked yesterday; no changes were made on the user's side.",
    "The requester is travelling and connects from a hotel network.",
)
WORK_NOTES = (
    "Checked the logs; the error matches a known pattern.",
    "Remote session with the user; reproduced the fault.",
    "Escalated internally for a second opinion.",
    "Restarted the affected service; monitoring.",
    "Waiting for the vendor's answer on the support case.",
    "Applied the documented workaround from the knowledge base.",
    "Collected diagnostics and attached them to the ticket.",
)
RESOLUTION_NOTES = {
    "fixed": "Root cause fixed and verified with the requester.",
    "workaround": "Workaround applied; a problem record tracks the permanent fix.",
    "fulfilled": "Request fulfilled as specified in the catalogue item.",
    "duplicate": "Duplicate of an existing ticket; closed in favour of it.",
    "not_reproducible": "Could not reproduce after several attempts.",
    "user_error": "Explained the correct procedure to the requester.",
    "no_fault_found": "No fault found in the service; monitoring shows normal behaviour.",
}
ROOT_CAUSES = (
    "A configuration change left a connection pool too small for peak load.",
    "A certificate expired on an internal load balancer.",
    "A storage volume filled up because log rotation was disabled.",
    "A driver update conflicts with the docking station firmware.",
    "A scheduled job locks the table during business hours.",
    "DNS records were not updated after a server migration.",
)
WORKAROUNDS = (
    "Restart the affected service; it recovers for several days.",
    "Use the web client until the desktop client is patched.",
    "Connect through the backup VPN gateway.",
    "Clear the local cache and sign in again.",
)
SURVEY_COMMENTS = {
    1: ("Took far too long.", "Nobody kept me informed.", ""),
    2: ("The fix did not last.", "Slow response.", ""),
    3: ("OK in the end.", "", ""),
    4: ("Good service, thanks.", "", "", ""),
    5: ("Excellent, very quick!", "Great help, thank you.", "", "", ""),
}
COMPLAINTS = (
    "Ticket was closed without my confirmation.",
    "Waited too long for a first answer.",
    "The same fault keeps coming back.",
    "The agent was not able to explain what happened.",
    "Outage during month-end closing affected our team.",
)
CHANGE_TITLES = (
    "Patch database servers",
    "Upgrade load balancer firmware",
    "Rotate TLS certificates",
    "Increase connection pool size",
    "Migrate file shares to new storage",
    "Roll out desktop client update",
    "Add disk capacity to the log cluster",
    "Replace core switch in data centre",
    "Apply OS security updates",
    "Enable log rotation on application servers",
)
KB_TAGS = ("vpn", "email", "printing", "access", "database", "network", "laptop", "performance")

# Replies that fit the moment they are written in: the first answer to a requester,
# a question that puts a ticket on hold, and the answer that closes the work.
ACKNOWLEDGEMENTS = (
    "Thank you for reporting this; we are looking into it now.",
    "We have picked up your ticket and are working on it.",
)
REQUEST_ACKNOWLEDGEMENTS = (
    "We have received your request and are working on it.",
    "Your request is approved and being prepared.",
)
PROBLEM_ACKNOWLEDGEMENTS = ("We are investigating the root cause of these incidents.",)
PENDING_QUESTIONS = (
    "We need a little more information: when did this start?",
    "Could you confirm whether the problem still occurs?",
    "Could you send a screenshot of the error message?",
)
RESOLVED_REPLIES = {
    "incident": (
        "We have applied a fix; please check and let us know.",
        "The issue is resolved; this ticket will close automatically in a few days.",
    ),
    "request": ("Your request has been completed.",),
    "problem": ("The root cause is fixed; the related incidents are being closed.",),
}
