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
# The kinds of fault each of the default desk's services has: a printer is not offline in
# the mail service. A service of another desk file has every kind.
SERVICE_FAULTS = {
    "Email and Calendar": ("email", "access", "performance"),
    "ERP": ("software", "database", "performance", "access"),
    "CRM": ("software", "database", "performance", "access"),
    "Intranet": ("software", "performance", "access"),
    "Corporate Network and Wi-Fi": ("network", "performance"),
    "Internet Access": ("network", "performance"),
    "VPN and Remote Access": ("network", "access"),
    "Identity and Access": ("access", "software"),
    "File Storage and Backup": ("database", "performance", "access"),
    "Workstations and Laptops": ("hardware", "software"),
    "Printing": ("printing", "hardware"),
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
# A problem's root cause and workaround, true to its kind of fault (INCIDENT_CATEGORIES).
CAUSES_BY_CATEGORY = {
    "hardware": (
        "A driver update conflicts with the docking station firmware.",
        "A batch of laptops shipped with a faulty BIOS power setting.",
        "The monitors' cables on this floor are an older standard that loses sync.",
    ),
    "software": (
        "The last client update was packaged without its runtime library.",
        "The licence server's certificate expired and clients cannot check out a seat.",
        "A plug-in loaded at start-up crashes on the new operating system build.",
    ),
    "network": (
        "The VPN gateway's rekey timer is shorter than the clients' after its upgrade.",
        "A wireless access point on the floor runs firmware with a known roaming bug.",
        "The core switch's uplink is saturated by the nightly backup running into the day.",
    ),
    "access": (
        "The password policy sync locks accounts after the directory's replication lag.",
        "A role mapping was lost when the identity provider was migrated.",
        "Stale cached credentials on mobile devices retry and trip the lockout threshold.",
    ),
    "email": (
        "The mail relay's queue fills up when the spam filter's update stalls.",
        "Calendar sync tokens expire after the mobile management profile changed.",
        "Mailbox quotas were not raised when the archive policy was switched off.",
    ),
    "printing": (
        "The print server's spooler leaks memory with the new driver package.",
        "Printers lose their address when the DHCP lease is shortened.",
        "The scan-to-mail account's password expired with no owner to renew it.",
    ),
    "database": (
        "A scheduled job locks the reporting tables during business hours.",
        "A missing index after the schema upgrade forces full scans on the report.",
        "The replica's disk is slower than the primary's and falls behind at peak.",
    ),
    "performance": (
        "A configuration change left a connection pool too small for peak load.",
        "A storage volume filled up because log rotation was disabled.",
        "The application servers' memory limit is below what the new release needs.",
    ),
}
WORKAROUNDS_BY_CATEGORY = {
    "hardware": (
        "Undock and dock again after sign-in; roll back the driver if it recurs.",
        "Set the power plan to High performance until the BIOS update is installed.",
        "Swap the cable for a certified one from the service desk's stock.",
    ),
    "software": (
        "Install the runtime from the software centre, then start the client again.",
        "Use the web version of the application until the licence server is renewed.",
        "Start the application in safe mode and disable the plug-in.",
    ),
    "network": (
        "Set the client's rekey interval to 50 minutes, or connect through the backup gateway.",
        "Turn Wi-Fi off and on when moving between wings; use a cable for meetings.",
        "Reschedule large transfers after 18:00; the desk can raise a temporary limit.",
    ),
    "access": (
        "Unlock the account and sign in again after 15 minutes, once replication caught up.",
        "Grant the role by hand from the access catalogue until the mapping is restored.",
        "Remove the old account from the phone's mail app, then add it again.",
    ),
    "email": (
        "Send large messages as a link to the file share until the relay is fixed.",
        "Remove the calendar account from the device and add it again.",
        "Move old mail to the online archive to get under the quota.",
    ),
    "printing": (
        "Restart the print spooler from the self-service page; jobs print after a minute.",
        "Print to the floor's secondary printer by its queue name.",
        "Scan to the file share and attach the file to the mail by hand.",
    ),
    "database": (
        "Run the report before 08:00 or after 18:00, when the job is not running.",
        "Narrow the report's date range to a month at a time.",
        "Read from the primary for urgent reports; the replica catches up overnight.",
    ),
    "performance": (
        "Restart the affected service; it recovers for several days.",
        "Delete the old logs on the full volume; the service resumes within minutes.",
        "Raise the affected node's memory limit by hand until the release is sized.",
    ),
}
# The knowledge base's general articles (no problem behind them): (title, tag, body).
HOW_TO_ARTICLES = (
    (
        "Connect to the VPN from home",
        "vpn",
        "Install the VPN client from the software centre, sign in with your desk account "
        "and approve the prompt on your phone. Choose the gateway nearest to you.",
    ),
    (
        "Reset your password from the self-service page",
        "access",
        "Open the self-service page, choose Forgotten password and answer the code sent to "
        "your phone. The new password reaches every system within 15 minutes.",
    ),
    (
        "Set up mail and calendar on a new phone",
        "email",
        "Enrol the phone in device management first; the mail profile then arrives on its "
        "own. Remove any mail account you added by hand before.",
    ),
    (
        "Add a network printer by its queue name",
        "printing",
        "Open Printers, choose Add a printer and type the queue name shown on the printer's "
        "label. The driver installs itself.",
    ),
    (
        "Request access to a shared folder",
        "access",
        "Use the catalogue item Access to a system and name the folder and the access level; "
        "the folder's owner approves it.",
    ),
    (
        "What to do when your laptop will not start",
        "laptop",
        "Hold the power button for 15 seconds, connect the charger and start again. If the "
        "screen stays dark, call the desk: we swap the laptop the same day.",
    ),
    (
        "Speed up slow reports in the ERP",
        "database",
        "Filter by period and company before running a report; reports over a year run "
        "overnight from the scheduler.",
    ),
    (
        "Join the office Wi-Fi with your desk account",
        "network",
        "Choose the Corp network, sign in with your desk account and accept the certificate "
        "named by the desk's page.",
    ),
    (
        "Free up space in your mailbox",
        "email",
        "Empty Deleted Items, then move mail older than a year to the online archive; the "
        "quota counts both.",
    ),
    (
        "Tell the desk about slow applications",
        "performance",
        "Note the time, the application and what you were doing, and whether colleagues see "
        "it too; it lets us match it with the monitoring.",
    ),
)
# The tag an article from a problem carries, by the problem's category.
KB_TAG_OF_CATEGORY = {
    "hardware": "laptop",
    "software": "software",
    "network": "network",
    "access": "access",
    "email": "email",
    "printing": "printing",
    "database": "database",
    "performance": "performance",
}
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
# A normal or emergency change's plans, by what it does (the title's index).
CHANGE_CATEGORIES = (
    "database",
    "network",
    "security",
    "application",
    "storage",
    "desktop",
    "storage",
    "network",
    "security",
    "application",
)
IMPLEMENTATION_PLANS = (
    "1. Announce the window to the service owner. 2. Take a snapshot. 3. Apply the change "
    "node by node. 4. Watch monitoring for 30 minutes.",
    "1. Drain traffic from the first node. 2. Apply and restart it. 3. Return it to the "
    "pool; repeat for the next node.",
    "1. Freeze deployments. 2. Apply the change from the reviewed runbook. 3. Verify each "
    "step's output against the runbook.",
)
BACKOUT_PLANS = (
    "Restore the snapshot taken before the change; the service owner confirms the rollback.",
    "Reinstall the previous version from the release archive and restart the nodes.",
    "Revert the configuration from version control and reload the service.",
)
TEST_PLANS = (
    "Smoke tests of the affected services; the owner signs off.",
    "Run the monitoring checks and a synthetic login; compare error rates to last week.",
    "Key users test their main transactions; the on-call engineer watches the alerts.",
)
EMERGENCY_TITLES = (
    "Roll back the faulty release causing login failures",
    "Replace a failed disk in the storage array",
    "Apply the vendor hotfix for the mail relay outage",
    "Restart the hung cluster node and raise its memory limit",
    "Patch an actively exploited vulnerability",
)
CHANGE_REVIEWS = {
    "successful": (
        "Implemented as planned; monitoring stayed green and the owner verified the service.",
        "Done inside the window; no incidents in the days after.",
    ),
    "failed": (
        "The change did not reach its goal: the new version failed its health checks.",
        "Implementation stopped halfway: a dependency was not ready.",
    ),
    "backed_out": (
        "Backed out after errors rose in the first hour; the back-out plan worked.",
        "Rolled back when the test plan failed; service restored before the window ended.",
    ),
}
LESSONS_LEARNED = {
    "successful": (
        "Plan and timing worked as expected; reuse the runbook.",
        "Announcing the window a day earlier cut the calls to the desk.",
    ),
    "failed": (
        "Test against a copy of production data before the next attempt.",
        "Check the dependencies' readiness in the CAB review.",
    ),
    "backed_out": (
        "Rehearse the back-out in staging; it took longer than planned.",
        "Add the failing check to the test plan before the retry.",
    ),
}
REJECTION_REASONS = (
    "Risk too high for this window: plan it after the month-end close.",
    "The back-out plan is not tested; test it in staging and resubmit.",
    "It overlaps with the data-centre work that week; pick another date.",
)
CANCEL_REASONS = (
    "Superseded by a vendor update that fixes the issue.",
    "The requester withdrew the request.",
    "Merged into a larger change planned next month.",
)
OVERRIDE_REASONS = (
    "Agreed with the service owner: the only window the vendor engineer is on site.",
    "Security fix that cannot wait for the next maintenance window.",
    "Finance approved working during the close; the change does not touch posting.",
)
APPROVAL_COMMENTS = (
    "",
    "",
    "Back-out plan looks sound.",
    "Approved; keep the service owner informed.",
    "OK for this window.",
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
