-- spoor rules export --sql trino
-- trino: 22 rules exported (2 sigma, 20 spoor); 12 cannot be expressed in SQL (1 sigma, 8 spoor, 3 threshold)
-- Each row is one (rule_id, event) match; the event key is (source, evidence, offset, seq).
-- Not exported:
--   failed-logon-burst (threshold, rules/bruteforce.yml:7): stateful (threshold): counts or correlates events over time
--   failed-logon-spray (threshold, rules/bruteforce.yml:50): stateful (threshold): counts or correlates events over time
--   explicit-credential-spray (threshold, rules/bruteforce.yml:81): stateful (threshold): counts or correlates events over time
--   sid-history-added (spoor, rules/identity.yml:4): split() has no SQL form
--   powershell-encoded-command (spoor, rules/powershell.yml:3): decode_ps() has no SQL form
--   recon-accounts (spoor, rules/recon.yml:7): decode_ps() has no SQL form
--   recon-groups (spoor, rules/recon.yml:42): decode_ps() has no SQL form
--   recon-shares (spoor, rules/recon.yml:71): decode_ps() has no SQL form
--   recon-software (spoor, rules/recon.yml:104): decode_ps() has no SQL form
--   recon-domain (spoor, rules/recon.yml:127): decode_ps() has no SQL form
--   recon-ad-collection-tool (spoor, rules/recon.yml:150): decode_ps() has no SQL form
--   7d4c1f0e-0000-4000-8000-000000000003 (sigma, testdata/rules/keywords.yml:1): keywords (a search in every value)

CREATE OR REPLACE VIEW spoor_events AS
SELECT * FROM (SELECT *, (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v32" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v33" ELSE "_v32" END) AS "_rv0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l32" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l33" ELSE "_l32" END) AS "_rl0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p32" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p33" ELSE "_p32" END) AS "_rp0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v19" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v34" ELSE "_v19" END) AS "_rv1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l19" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l34" ELSE "_l19" END) AS "_rl1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p19" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p34" ELSE "_p19" END) AS "_rp1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v36" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v2" ELSE "_v36" END) AS "_rv2",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l36" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l2" ELSE "_l36" END) AS "_rl2",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p36" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p2" ELSE "_p36" END) AS "_rp2"
  FROM (SELECT *, (CASE WHEN "_h2" THEN "_f2" ELSE coalesce("_n2", '') END) AS "_v2",
    lower((CASE WHEN "_h2" THEN "_f2" ELSE coalesce("_n2", '') END)) AS "_l2",
    ("_h2" OR "_n2" IS NOT NULL) AS "_p2",
    (CASE WHEN "_h19" THEN "_f19" ELSE coalesce("_n19", '') END) AS "_v19",
    lower((CASE WHEN "_h19" THEN "_f19" ELSE coalesce("_n19", '') END)) AS "_l19",
    ("_h19" OR "_n19" IS NOT NULL) AS "_p19",
    (CASE WHEN "_h28" THEN "_f28" ELSE coalesce("_n28", '') END) AS "_v28",
    lower((CASE WHEN "_h28" THEN "_f28" ELSE coalesce("_n28", '') END)) AS "_l28",
    ("_h28" OR "_n28" IS NOT NULL) AS "_p28",
    (CASE WHEN "_h29" THEN "_f29" ELSE coalesce("_n29", '') END) AS "_v29",
    lower((CASE WHEN "_h29" THEN "_f29" ELSE coalesce("_n29", '') END)) AS "_l29",
    ("_h29" OR "_n29" IS NOT NULL) AS "_p29",
    (CASE WHEN "_h30" THEN "_f30" ELSE coalesce("_n30", '') END) AS "_v30",
    lower((CASE WHEN "_h30" THEN "_f30" ELSE coalesce("_n30", '') END)) AS "_l30",
    ("_h30" OR "_n30" IS NOT NULL) AS "_p30",
    (CASE WHEN "_h31" THEN "_f31" ELSE coalesce("_n31", '') END) AS "_v31",
    lower((CASE WHEN "_h31" THEN "_f31" ELSE coalesce("_n31", '') END)) AS "_l31",
    ("_h31" OR "_n31" IS NOT NULL) AS "_p31",
    (CASE WHEN "_h32" THEN "_f32" ELSE coalesce("_n32", '') END) AS "_v32",
    lower((CASE WHEN "_h32" THEN "_f32" ELSE coalesce("_n32", '') END)) AS "_l32",
    ("_h32" OR "_n32" IS NOT NULL) AS "_p32",
    (CASE WHEN "_h33" THEN "_f33" ELSE coalesce("_n33", '') END) AS "_v33",
    lower((CASE WHEN "_h33" THEN "_f33" ELSE coalesce("_n33", '') END)) AS "_l33",
    ("_h33" OR "_n33" IS NOT NULL) AS "_p33",
    (CASE WHEN "_h34" THEN "_f34" ELSE coalesce("_n34", '') END) AS "_v34",
    lower((CASE WHEN "_h34" THEN "_f34" ELSE coalesce("_n34", '') END)) AS "_l34",
    ("_h34" OR "_n34" IS NOT NULL) AS "_p34",
    (CASE WHEN "_h35" THEN "_f35" ELSE coalesce("_n35", '') END) AS "_v35",
    lower((CASE WHEN "_h35" THEN "_f35" ELSE coalesce("_n35", '') END)) AS "_l35",
    ("_h35" OR "_n35" IS NOT NULL) AS "_p35",
    (CASE WHEN "_h36" THEN "_f36" ELSE coalesce("_n36", '') END) AS "_v36",
    lower((CASE WHEN "_h36" THEN "_f36" ELSE coalesce("_n36", '') END)) AS "_l36",
    ("_h36" OR "_n36" IS NOT NULL) AS "_p36"
  FROM (SELECT *, coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetUserName"]'), '') AS "_f0",
    coalesce(json_extract(nullif("fields", ''), '$["TargetUserName"]') IS NOT NULL, FALSE) AS "_h0",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetSid"]'), '') AS "_f1",
    coalesce(json_extract(nullif("fields", ''), '$["TargetSid"]') IS NOT NULL, FALSE) AS "_h1",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["SubjectUserName"]'), '') AS "_f2",
    coalesce(json_extract(nullif("fields", ''), '$["SubjectUserName"]') IS NOT NULL, FALSE) AS "_h2",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."SubjectUserName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n2",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["AuditPolicyChanges"]'), '') AS "_f3",
    coalesce(json_extract(nullif("fields", ''), '$["AuditPolicyChanges"]') IS NOT NULL, FALSE) AS "_h3",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetObject"]'), '') AS "_f4",
    coalesce(json_extract(nullif("fields", ''), '$["TargetObject"]') IS NOT NULL, FALSE) AS "_h4",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["Details"]'), '') AS "_f5",
    coalesce(json_extract(nullif("fields", ''), '$["Details"]') IS NOT NULL, FALSE) AS "_h5",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["EventType"]'), '') AS "_f6",
    coalesce(json_extract(nullif("fields", ''), '$["EventType"]') IS NOT NULL, FALSE) AS "_h6",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ObjectValueName"]'), '') AS "_f7",
    coalesce(json_extract(nullif("fields", ''), '$["ObjectValueName"]') IS NOT NULL, FALSE) AS "_h7",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["OperationType"]'), '') AS "_f8",
    coalesce(json_extract(nullif("fields", ''), '$["OperationType"]') IS NOT NULL, FALSE) AS "_h8",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["NewValue"]'), '') AS "_f9",
    coalesce(json_extract(nullif("fields", ''), '$["NewValue"]') IS NOT NULL, FALSE) AS "_h9",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ObjectName"]'), '') AS "_f10",
    coalesce(json_extract(nullif("fields", ''), '$["ObjectName"]') IS NOT NULL, FALSE) AS "_h10",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["State"]'), '') AS "_f11",
    coalesce(json_extract(nullif("fields", ''), '$["State"]') IS NOT NULL, FALSE) AS "_h11",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["param4"]'), '') AS "_f12",
    coalesce(json_extract(nullif("fields", ''), '$["param4"]') IS NOT NULL, FALSE) AS "_h12",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["param1"]'), '') AS "_f13",
    coalesce(json_extract(nullif("fields", ''), '$["param1"]') IS NOT NULL, FALSE) AS "_h13",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["param3"]'), '') AS "_f14",
    coalesce(json_extract(nullif("fields", ''), '$["param3"]') IS NOT NULL, FALSE) AS "_h14",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["AccessList"]'), '') AS "_f15",
    coalesce(json_extract(nullif("fields", ''), '$["AccessList"]') IS NOT NULL, FALSE) AS "_h15",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["AccessMask"]'), '') AS "_f16",
    coalesce(json_extract(nullif("fields", ''), '$["AccessMask"]') IS NOT NULL, FALSE) AS "_h16",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ProcessName"]'), '') AS "_f17",
    coalesce(json_extract(nullif("fields", ''), '$["ProcessName"]') IS NOT NULL, FALSE) AS "_h17",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetFilename"]'), '') AS "_f18",
    coalesce(json_extract(nullif("fields", ''), '$["TargetFilename"]') IS NOT NULL, FALSE) AS "_h18",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["Image"]'), '') AS "_f19",
    coalesce(json_extract(nullif("fields", ''), '$["Image"]') IS NOT NULL, FALSE) AS "_h19",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."Image"' WITH ARRAY WRAPPER), '$[0]') END AS "_n19",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["OriginalFileName"]'), '') AS "_f20",
    coalesce(json_extract(nullif("fields", ''), '$["OriginalFileName"]') IS NOT NULL, FALSE) AS "_h20",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["SidHistory"]'), '') AS "_f21",
    coalesce(json_extract(nullif("fields", ''), '$["SidHistory"]') IS NOT NULL, FALSE) AS "_h21",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["SourceSid"]'), '') AS "_f22",
    coalesce(json_extract(nullif("fields", ''), '$["SourceSid"]') IS NOT NULL, FALSE) AS "_h22",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ObjectDN"]'), '') AS "_f23",
    coalesce(json_extract(nullif("fields", ''), '$["ObjectDN"]') IS NOT NULL, FALSE) AS "_h23",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["AttributeLDAPDisplayName"]'), '') AS "_f24",
    coalesce(json_extract(nullif("fields", ''), '$["AttributeLDAPDisplayName"]') IS NOT NULL, FALSE) AS "_h24",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ServiceName"]'), '') AS "_f25",
    coalesce(json_extract(nullif("fields", ''), '$["ServiceName"]') IS NOT NULL, FALSE) AS "_h25",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ImagePath"]'), '') AS "_f26",
    coalesce(json_extract(nullif("fields", ''), '$["ImagePath"]') IS NOT NULL, FALSE) AS "_h26",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ServiceFileName"]'), '') AS "_f27",
    coalesce(json_extract(nullif("fields", ''), '$["ServiceFileName"]') IS NOT NULL, FALSE) AS "_h27",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["LogonType"]'), '') AS "_f28",
    coalesce(json_extract(nullif("fields", ''), '$["LogonType"]') IS NOT NULL, FALSE) AS "_h28",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."LogonType"' WITH ARRAY WRAPPER), '$[0]') END AS "_n28",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["IpAddress"]'), '') AS "_f29",
    coalesce(json_extract(nullif("fields", ''), '$["IpAddress"]') IS NOT NULL, FALSE) AS "_h29",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."IpAddress"' WITH ARRAY WRAPPER), '$[0]') END AS "_n29",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["IpPort"]'), '') AS "_f30",
    coalesce(json_extract(nullif("fields", ''), '$["IpPort"]') IS NOT NULL, FALSE) AS "_h30",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."IpPort"' WITH ARRAY WRAPPER), '$[0]') END AS "_n30",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["WorkstationName"]'), '') AS "_f31",
    coalesce(json_extract(nullif("fields", ''), '$["WorkstationName"]') IS NOT NULL, FALSE) AS "_h31",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."WorkstationName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n31",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ParentImage"]'), '') AS "_f32",
    coalesce(json_extract(nullif("fields", ''), '$["ParentImage"]') IS NOT NULL, FALSE) AS "_h32",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."ParentImage"' WITH ARRAY WRAPPER), '$[0]') END AS "_n32",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ParentProcessName"]'), '') AS "_f33",
    coalesce(json_extract(nullif("fields", ''), '$["ParentProcessName"]') IS NOT NULL, FALSE) AS "_h33",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."ParentProcessName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n33",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["NewProcessName"]'), '') AS "_f34",
    coalesce(json_extract(nullif("fields", ''), '$["NewProcessName"]') IS NOT NULL, FALSE) AS "_h34",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."NewProcessName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n34",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["CommandLine"]'), '') AS "_f35",
    coalesce(json_extract(nullif("fields", ''), '$["CommandLine"]') IS NOT NULL, FALSE) AS "_h35",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."CommandLine"' WITH ARRAY WRAPPER), '$[0]') END AS "_n35",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["User"]'), '') AS "_f36",
    coalesce(json_extract(nullif("fields", ''), '$["User"]') IS NOT NULL, FALSE) AS "_h36",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."User"' WITH ARRAY WRAPPER), '$[0]') END AS "_n36"
  FROM (SELECT *, coalesce(cardinality(map_keys(cast(json_parse(nullif("fields", '')) AS map(varchar, json)))) <= 3, FALSE) AS _small FROM hive.spoor.acme_events) e0) e1) e2) e3;

-- user-account-created: User account created
SELECT 'user-account-created' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4720) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (coalesce("event_id", 0) = 4720));

-- privileged-group-member-added: Member added to a privileged group
SELECT 'privileged-group-member-added' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4728, 4732, 4756) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) IN ('account operators', 'administratoren', 'administrators', 'backup operators', 'dnsadmins', 'domain admins', 'domänen-admins', 'enterprise admins', 'group policy creator owners', 'remote desktop users', 'schema admins', 'server operators', 's-1-5-32-544', 's-1-5-32-548', 's-1-5-32-549', 's-1-5-32-550', 's-1-5-32-551', 's-1-5-32-555') OR ((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE 's-1-5-21-%' ESCAPE '!' AND ((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-512' ESCAPE '!' OR (CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-518' ESCAPE '!' OR (CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-519' ESCAPE '!'))) OR ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) IN ('account operators', 'administratoren', 'administrators', 'backup operators', 'dnsadmins', 'domain admins', 'domänen-admins', 'enterprise admins', 'group policy creator owners', 'remote desktop users', 'schema admins', 'server operators', 's-1-5-32-544', 's-1-5-32-548', 's-1-5-32-549', 's-1-5-32-550', 's-1-5-32-551', 's-1-5-32-555') OR ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE 's-1-5-21-%' ESCAPE '!' AND ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-512' ESCAPE '!' OR (CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-518' ESCAPE '!' OR (CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-519' ESCAPE '!')))));

-- account-enabled-or-reset-by-other: Account enabled, or its password reset by another account
SELECT 'account-enabled-or-reset-by-other' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4722, 4724) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((coalesce("event_id", 0) = 4722) OR (lower("_f2") <> lower("_f0"))));

-- account-enabled-or-reset-by-provider-or-off-hours: Account enabled or password reset by the provider or outside business hours
SELECT 'account-enabled-or-reset-by-provider-or-off-hours' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4722, 4724) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((coalesce("event_id", 0) = 4722) OR (lower("_f2") <> lower("_f0"))) AND (((coalesce("subject_user", '') <> '' AND (lower(coalesce("subject_user", '')) LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'corp\ct-%' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'ct-%' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'erp-%' ESCAPE '!')) OR ("_f2" <> '' AND (lower("_f2") LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'corp\ct-%' ESCAPE '!' OR lower("_f2") LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'ct-%' ESCAPE '!' OR lower("_f2") LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower("_f2") LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'erp-%' ESCAPE '!'))) OR (NOT ((day_of_week((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) IN (1, 2, 3, 4, 5)) AND NOT (format_datetime((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'), 'yyyy-MM-dd') IN ('2026-11-01')) AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) >= 420 AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) < 1140)))));

-- audit-policy-removed: Audit policy removed
SELECT 'audit-policy-removed' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4719) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((lower(coalesce("channel", '')) = 'security') OR (coalesce("channel", '') = '')) AND ((strpos(lower("_f3"), '%%8448') > 0) OR (strpos(lower("_f3"), '%%8450') > 0) OR (strpos(lower("_f3"), 'success removed') > 0) OR (strpos(lower("_f3"), 'failure removed') > 0))));

-- powershell-logging-disabled: PowerShell logging switched off in the registry
SELECT 'powershell-logging-disabled' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (12, 13) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0) AND ((length(lower("_f4")) >= length('\enablescriptblocklogging') AND substr(lower("_f4"), length(lower("_f4")) - length('\enablescriptblocklogging') + 1) = '\enablescriptblocklogging') OR (length(lower("_f4")) >= length('\enablemodulelogging') AND substr(lower("_f4"), length(lower("_f4")) - length('\enablemodulelogging') + 1) = '\enablemodulelogging') OR (length(lower("_f4")) >= length('\enabletranscripting') AND substr(lower("_f4"), length(lower("_f4")) - length('\enabletranscripting') + 1) = '\enabletranscripting') OR (length(lower("_f4")) >= length('\enablescriptblockinvocationlogging') AND substr(lower("_f4"), length(lower("_f4")) - length('\enablescriptblockinvocationlogging') + 1) = '\enablescriptblockinvocationlogging'))) AND (((coalesce("event_id", 0) = 13) AND (strpos(lower("_f5"), lower('0x00000000')) > 0)) OR ((coalesce("event_id", 0) = 12) AND (strpos(lower("_f6"), lower('delete')) > 0)))));

-- powershell-logging-disabled-command: PowerShell logging switched off by a command
SELECT 'powershell-logging-disabled-command' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((coalesce("command_line", '') <> '') OR (coalesce("script_text", '') <> '')) AND ((strpos(lower(coalesce("command_line", '')), lower('enable')) > 0) OR (strpos(lower(coalesce("script_text", '')), lower('enable')) > 0))) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)Enable(ScriptBlock|Module)Logging|EnableTranscripting')) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)(-value|/d|=)\s*[''"]?(0|\$false)\b|remove-item(property)?\b|reg(\.exe)?\s+delete')));

-- process-cmdline-logging-disabled: Process command-line auditing switched off
SELECT 'process-cmdline-logging-disabled' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1, 12, 13, 4103, 4104, 4657, 4688) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0) AND ((length(lower("_f4")) >= length('\processcreationincludecmdline_enabled') AND substr(lower("_f4"), length(lower("_f4")) - length('\processcreationincludecmdline_enabled') + 1) = '\processcreationincludecmdline_enabled'))) AND (((coalesce("event_id", 0) = 13) AND (strpos(lower("_f5"), lower('0x00000000')) > 0)) OR ((coalesce("event_id", 0) = 12) AND (strpos(lower("_f6"), lower('delete')) > 0)))) OR (((coalesce("event_id", 0) = 4657) AND (lower("_f7") = 'processcreationincludecmdline_enabled')) AND (("_f8" = '%%1906') OR ("_f9" = '0')))) OR (((((coalesce("command_line", '') <> '') OR (coalesce("script_text", '') <> '')) AND ((strpos(lower(coalesce("command_line", '')), lower('includecmdline')) > 0) OR (strpos(lower(coalesce("script_text", '')), lower('includecmdline')) > 0))) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)ProcessCreationIncludeCmdLine_Enabled')) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)(-value|/d|=)\s*[''"]?(0|\$false)\b|remove-item(property)?\b|reg(\.exe)?\s+delete'))));

-- event-logging-disabled-registry: Event logging switched off in the registry
SELECT 'event-logging-disabled-registry' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1, 12, 13, 4103, 4104, 4657, 4688) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((((strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0) AND ((((coalesce("event_id", 0) = 12) AND ((length(lower("_f4")) >= length('\control\minint') AND substr(lower("_f4"), length(lower("_f4")) - length('\control\minint') + 1) = '\control\minint'))) AND (NOT (strpos(lower("_f6"), lower('delete')) > 0))) OR (((coalesce("event_id", 0) = 13) AND ((length(lower("_f4")) >= length('\services\eventlog\start') AND substr(lower("_f4"), length(lower("_f4")) - length('\services\eventlog\start') + 1) = '\services\eventlog\start'))) AND (strpos(lower("_f5"), lower('0x00000004')) > 0)))) OR ((((coalesce("event_id", 0) = 4657) AND ((length(lower("_f10")) >= length('\services\eventlog') AND substr(lower("_f10"), length(lower("_f10")) - length('\services\eventlog') + 1) = '\services\eventlog'))) AND (lower("_f7") = 'start')) AND ("_f9" = '4'))) OR ((((coalesce("command_line", '') <> '') OR (coalesce("script_text", '') <> '')) AND ((((strpos(lower(coalesce("command_line", '')), lower('minint')) > 0) OR (strpos(lower(coalesce("command_line", '')), lower('eventlog')) > 0)) OR (strpos(lower(coalesce("script_text", '')), lower('minint')) > 0)) OR (strpos(lower(coalesce("script_text", '')), lower('eventlog')) > 0))) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)(reg(\.exe)?\s+add|new-item)\s+(-path\s+)?[''"]?(HKEY_LOCAL_MACHINE|HKLM:?)\\SYSTEM\\(CurrentControlSet|ControlSet\d+)\\Control\\MiniNt\b|\\Services\\EventLog[''"]?\s.*(/v\s+Start\s.*/d\s+4\b|-Name\s+[''"]?Start[''"]?\s.*-Value\s+4\b)|\bsc(\.exe)?\s+config\s+[''"]?eventlog[''"]?\s+start\s*=\s*disabled|Set-Service\s.*-Name\s+[''"]?EventLog[''"]?\s.*-StartupType\s+[''"]?Disabled'))));

-- defender-disabled: Microsoft Defender protection switched off
SELECT 'defender-disabled' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((((coalesce("event_id", 0) IN (5001, 5010, 5012)) AND (strpos(lower(coalesce("channel", '')), lower('defender')) > 0)) OR (((((coalesce("event_id", 0) = 13) AND (strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0)) AND (strpos(lower("_f4"), lower('\Windows Defender\')) > 0)) AND ((length(lower("_f4")) >= length('\disableantispyware') AND substr(lower("_f4"), length(lower("_f4")) - length('\disableantispyware') + 1) = '\disableantispyware') OR (length(lower("_f4")) >= length('\disableantivirus') AND substr(lower("_f4"), length(lower("_f4")) - length('\disableantivirus') + 1) = '\disableantivirus') OR (length(lower("_f4")) >= length('\disablerealtimemonitoring') AND substr(lower("_f4"), length(lower("_f4")) - length('\disablerealtimemonitoring') + 1) = '\disablerealtimemonitoring') OR (length(lower("_f4")) >= length('\disablebehaviormonitoring') AND substr(lower("_f4"), length(lower("_f4")) - length('\disablebehaviormonitoring') + 1) = '\disablebehaviormonitoring') OR (length(lower("_f4")) >= length('\disableioavprotection') AND substr(lower("_f4"), length(lower("_f4")) - length('\disableioavprotection') + 1) = '\disableioavprotection') OR (length(lower("_f4")) >= length('\disableonaccessprotection') AND substr(lower("_f4"), length(lower("_f4")) - length('\disableonaccessprotection') + 1) = '\disableonaccessprotection') OR (length(lower("_f4")) >= length('\disablescanonrealtimeenable') AND substr(lower("_f4"), length(lower("_f4")) - length('\disablescanonrealtimeenable') + 1) = '\disablescanonrealtimeenable'))) AND (strpos(lower("_f5"), lower('0x00000001')) > 0))) OR ((((coalesce("command_line", '') <> '') OR (coalesce("script_text", '') <> '')) AND ((((((strpos(lower(coalesce("command_line", '')), lower('mppreference')) > 0) OR (strpos(lower(coalesce("command_line", '')), lower('windefend')) > 0)) OR (strpos(lower(coalesce("command_line", '')), lower('mpcmdrun')) > 0)) OR (strpos(lower(coalesce("script_text", '')), lower('mppreference')) > 0)) OR (strpos(lower(coalesce("script_text", '')), lower('windefend')) > 0)) OR (strpos(lower(coalesce("script_text", '')), lower('mpcmdrun')) > 0))) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)set-mppreference\b.*-disable(realtimemonitoring|behaviormonitoring|ioavprotection|scriptscanning|intrusionpreventionsystem)\s+(\$true|1)\b|\bsc(\.exe)?\s+(stop|delete|config)\s+windefend\b|mpcmdrun(\.exe)?\s+.*-removedefinitions'))));

-- sysmon-stopped-or-unloaded: Sysmon stopped, uninstalled or its driver unloaded
SELECT 'sysmon-stopped-or-unloaded' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((coalesce("event_id", 0) = 4) AND (strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0)) AND (strpos(lower("_f11"), lower('stopped')) > 0)) OR ((((coalesce("event_id", 0) = 7040) AND (lower(coalesce("channel", '')) = 'system')) AND (strpos(lower((CASE WHEN ("_f12" <> '') THEN "_f12" ELSE "_f13" END)), lower('sysmon')) > 0)) AND (strpos(lower("_f14"), lower('disabled')) > 0))) OR ((((coalesce("command_line", '') <> '') OR (coalesce("script_text", '') <> '')) AND ((strpos(lower(coalesce("command_line", '')), lower('sysmon')) > 0) OR (strpos(lower(coalesce("script_text", '')), lower('sysmon')) > 0))) AND regexp_like(((coalesce("command_line", '') || '
') || coalesce("script_text", '')), '(?i)\bfltmc(\.exe)?\s+(unload|detach)\s+\S*sysmon|\bsysmon(64)?(\.exe)?\s+-u\b|\b(sc|net)(\.exe)?\s+(stop|delete)\s+sysmon'))));

-- accessibility-binary-replaced: Accessibility binary replaced or run as a shell
SELECT 'accessibility-binary-replaced' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1, 2, 11, 23, 26, 4663) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((((coalesce("event_id", 0) = 4663) AND (lower(coalesce("channel", '')) = 'security')) AND (strpos(lower("_f10"), lower('\windows\')) > 0)) AND regexp_like("_f10", '(?i)\\windows\\(system32|syswow64|sysnative)\\(sethc|utilman|osk|magnify|narrator|displayswitch|atbroker)\.exe$')) AND (regexp_like("_f15", '%%(4417|4418|1537)\b') OR regexp_like("_f16", '(?i)^0x(2|4|6|10000|10002|10004|10006)$'))) AND (NOT regexp_like("_f17", '(?i)^[a-z]:\\windows\\(winsxs\\[^\\]+|servicing)\\(tiworker|trustedinstaller)\.exe$'))) OR ((strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0) AND (((((coalesce("event_id", 0) IN (2, 11, 23, 26)) AND (strpos(lower("_f18"), lower('\windows\')) > 0)) AND regexp_like("_f18", '(?i)\\windows\\(system32|syswow64|sysnative)\\(sethc|utilman|osk|magnify|narrator|displayswitch|atbroker)\.exe$')) AND (NOT regexp_like("_f19", '(?i)^[a-z]:\\windows\\(winsxs\\[^\\]+|servicing)\\(tiworker|trustedinstaller)\.exe$'))) OR (((coalesce("event_id", 0) = 1) AND (lower("_f20") IN ('cmd.exe', 'powershell.exe', 'pwsh.dll', 'powershell_ise.exe', 'explorer.exe', 'taskmgr.exe', 'regedit.exe', 'cscript.exe', 'wscript.exe', 'mshta.exe', 'rundll32.exe'))) AND regexp_like("_f19", '(?i)\\(sethc|utilman|osk|magnify|narrator|displayswitch|atbroker)\.exe$'))))));

-- dsrm-password-set: Directory Services Restore Mode password set or DSRM network logon allowed
SELECT 'dsrm-password-set' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4794, 13, 4657, 1, 4688) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((coalesce("event_id", 0) = 4794) AND ((lower(coalesce("channel", '')) = 'security') OR (coalesce("channel", '') = ''))) OR (((coalesce("command_line", '') <> '') AND (strpos(lower(coalesce("command_line", '')), lower('dsrm')) > 0)) AND regexp_like(coalesce("command_line", ''), '(?i)\bntdsutil(\.exe)?"?\s.*set\s+dsrm\s+password'))) OR ((((coalesce("event_id", 0) = 13) AND (strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0)) AND ((length(lower("_f4")) >= length('\control\lsa\dsrmadminlogonbehavior') AND substr(lower("_f4"), length(lower("_f4")) - length('\control\lsa\dsrmadminlogonbehavior') + 1) = '\control\lsa\dsrmadminlogonbehavior'))) AND ((strpos(lower("_f5"), '0x00000001') > 0) OR (strpos(lower("_f5"), '0x00000002') > 0)))) OR ((((coalesce("event_id", 0) = 4657) AND ((length(lower("_f10")) >= length('\control\lsa') AND substr(lower("_f10"), length(lower("_f10")) - length('\control\lsa') + 1) = '\control\lsa'))) AND (lower("_f7") = 'dsrmadminlogonbehavior')) AND ("_f9" IN ('1', '2')))));

-- hidden-dollar-user-account: User account created with a name ending in $
SELECT 'hidden-dollar-user-account' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4720) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((lower(coalesce("channel", '')) = 'security') OR (coalesce("channel", '') = '')) AND ((length(lower((CASE WHEN ("_f0" <> '') THEN "_f0" ELSE coalesce("user", '') END))) >= length('$') AND substr(lower((CASE WHEN ("_f0" <> '') THEN "_f0" ELSE coalesce("user", '') END)), length(lower((CASE WHEN ("_f0" <> '') THEN "_f0" ELSE coalesce("user", '') END))) - length('$') + 1) = '$'))));

-- adminsdholder-modified: AdminSDHolder or a privileged group's object changed
SELECT 'adminsdholder-modified' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (5136) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((strpos(lower("_f23"), lower('CN=AdminSDHolder,CN=System')) > 0) OR ((lower("_f24") = 'ntsecuritydescriptor') AND ((strpos(lower("_f23"), 'cn=domain admins,') > 0) OR (strpos(lower("_f23"), 'cn=enterprise admins,') > 0) OR (strpos(lower("_f23"), 'cn=administrators,') > 0) OR (strpos(lower("_f23"), 'cn=schema admins,') > 0)))));

-- sam-registry-account: Account written directly into the SAM registry
SELECT 'sam-registry-account' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (12, 13, 14) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((strpos(lower(coalesce("channel", '')), lower('sysmon')) > 0) AND regexp_like("_f4", '(?i)\\SAM\\SAM\\Domains\\Account\\Users\\')) AND (NOT ((length(lower((CASE WHEN ("_f19" <> '') THEN "_f19" ELSE coalesce("process", '') END))) >= length('\lsass.exe') AND substr(lower((CASE WHEN ("_f19" <> '') THEN "_f19" ELSE coalesce("process", '') END)), length(lower((CASE WHEN ("_f19" <> '') THEN "_f19" ELSE coalesce("process", '') END))) - length('\lsass.exe') + 1) = '\lsass.exe')))));

-- provider-logon-off-hours: Provider logon outside business hours
SELECT 'provider-logon-off-hours' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4624, 4648, 1149) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((((((coalesce("event_id", 0) = 4624) AND (coalesce("logon_type", 0) IN (2, 3, 7, 10, 11))) OR (coalesce("event_id", 0) = 4648)) OR (coalesce("event_id", 0) = 1149)) AND (((coalesce("user", '') <> '' AND (lower(coalesce("user", '')) LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("user", ''))), 1, strpos(reverse(lower(coalesce("user", ''))), '\') - 1)) ELSE lower(coalesce("user", '')) END) LIKE 'corp\ct-%' ESCAPE '!' OR lower(coalesce("user", '')) LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("user", ''))), 1, strpos(reverse(lower(coalesce("user", ''))), '\') - 1)) ELSE lower(coalesce("user", '')) END) LIKE 'ct-%' ESCAPE '!' OR lower(coalesce("user", '')) LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("user", ''))), 1, strpos(reverse(lower(coalesce("user", ''))), '\') - 1)) ELSE lower(coalesce("user", '')) END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower(coalesce("user", '')) LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("user", ''))), 1, strpos(reverse(lower(coalesce("user", ''))), '\') - 1)) ELSE lower(coalesce("user", '')) END) LIKE 'erp-%' ESCAPE '!')) OR ((coalesce("subject_user", '') <> '' AND (lower(coalesce("subject_user", '')) LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'corp\ct-%' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'ct-%' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower(coalesce("subject_user", '')) LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower(coalesce("subject_user", '')), '\') > 0 THEN reverse(substr(reverse(lower(coalesce("subject_user", ''))), 1, strpos(reverse(lower(coalesce("subject_user", ''))), '\') - 1)) ELSE lower(coalesce("subject_user", '')) END) LIKE 'erp-%' ESCAPE '!')) AND (coalesce("event_id", 0) = 4648))) OR regexp_like(coalesce("src_ip", ''), '^(10\.250\.0\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|192\.0\.2\.80|198\.51\.100\.40)$'))) AND (NOT ((day_of_week((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) IN (1, 2, 3, 4, 5)) AND NOT (format_datetime((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'), 'yyyy-MM-dd') IN ('2026-11-01')) AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) >= 420 AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) < 1140))));

-- remote-access-service-installed: Remote-access tool installed as a service
SELECT 'remote-access-service-installed' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (7045, 4697) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'screenconnect') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'connectwise') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'anydesk') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'teamviewer') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'atera') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'splashtop') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'ninjarmm') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'ninjaone') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'kaseya') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'agentmon') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'datto') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'centrastage') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'aem agent') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'rustdesk') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'logmein') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'gotoassist') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'goto resolve') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'bomgar') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'beyondtrust') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'netsupport') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'client32.exe') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'remote utilities') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'rutserv') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'rfusclient') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'meshagent') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'tacticalrmm') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'level.io') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'zoho assist') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'zohomeeting') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'supremo') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'ammyy') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'dwagent') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'action1') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'simplehelp') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'remotepc') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'pdq') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'syncro') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'n-able') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'solarwinds msp') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'itsupport247') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'tightvnc') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'ultravnc') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'realvnc') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'winvnc') > 0) OR (strpos(lower(((((((coalesce("process", '') || ' ') || "_f25") || ' ') || "_f26") || ' ') || "_f27")), 'tvnserver') > 0)));

-- event-log-cleared: Event log cleared
SELECT 'event-log-cleared' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1102, 104) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((coalesce("event_id", 0) = 1102) AND ((coalesce("channel", '') = '') OR (lower(coalesce("channel", '')) = 'security'))) OR ((coalesce("event_id", 0) = 104) AND ((coalesce("provider", '') = '') OR (strpos(lower(coalesce("provider", '')), lower('eventlog')) > 0)))));

-- event-logging-stopped: Event logging service stopped
SELECT 'event-logging-stopped' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1100) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((lower(coalesce("channel", '')) = 'security') OR (coalesce("channel", '') = '')));

-- 7d4c1f0e-0000-4000-8000-000000000002: RDP logon from a documentation network
SELECT '7d4c1f0e-0000-4000-8000-000000000002' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("source" IN ('evtx') AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((lower("channel") = 'security') AND (((TRUE AND lower(cast("event_id" AS varchar)) LIKE '4624' ESCAPE '!') AND ("_p28" AND "_l28" LIKE '10' ESCAPE '!')) AND (("_p29" AND regexp_like(trim("_v29"), '^(192\.0\.2\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$')) OR ("_p29" AND regexp_like(trim("_v29"), '^(198\.51\.(100|101)\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$'))) AND ("_p30" AND (NOT lower(trim("_v30")) LIKE '0x%' ESCAPE '!' AND coalesce(try_cast(trim("_v30") AS DOUBLE) > 1024, FALSE))) AND "_p31")));

-- 7d4c1f0e-0000-4000-8000-000000000001: Encoded or hidden PowerShell started by an RMM agent
SELECT '7d4c1f0e-0000-4000-8000-000000000001' AS rule_id, "source", "evidence", "offset", "seq", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1, 4688) AND "source" IN ('evtx') AND lower("channel") IN ('microsoft-windows-sysmon/operational', 'security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) OR (lower("channel") = 'security' AND "event_id" IN (4688))) AND (("_rp0" AND ("_rl0" LIKE '%\anydesk%.exe' ESCAPE '!' OR "_rl0" LIKE '%\screenconnect.clientservice.exe' ESCAPE '!')) AND ((("_rp1" AND "_rl1" LIKE '%\powershell.exe' ESCAPE '!') AND ("_p35" AND (strpos("_l35", ' -enc ') > 0 OR strpos("_l35", ' /enc ') > 0 OR strpos("_l35", ' –enc ') > 0 OR strpos("_l35", ' —enc ') > 0 OR strpos("_l35", ' ―enc ') > 0))) OR ("_p35" AND strpos("_l35", 'hidden') > 0 AND strpos("_l35", 'bypass') > 0) OR ("_p35" AND (strpos("_l35", 'jbnzva2utv2viumvxdwvzd') > 0 OR strpos("_l35", 'ludm9rzs1xzwjszxf1zxn0') > 0 OR strpos("_l35", 'sw52b2tllvdlyljlcxvlc3') > 0)) OR ("_p35" AND regexp_like("_v35", '(?i)iex\s*\('))) AND (NOT (NOT "_rp2" OR "_rv2" = '')))));

