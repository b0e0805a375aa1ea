-- spoor rules export --sql trino
-- trino: 10 rules exported (2 sigma, 8 spoor); 11 cannot be expressed in SQL (1 sigma, 7 spoor, 3 threshold)
-- Each row is one (rule_id, event) match; the event key is (source, evidence, offset).
-- Not exported:
--   failed-logon-burst (threshold, rules/bruteforce.yml:7): stateful (threshold): counts or correlates events over time
--   failed-logon-spray (threshold, rules/bruteforce.yml:50): stateful (threshold): counts or correlates events over time
--   explicit-credential-spray (threshold, rules/bruteforce.yml:81): stateful (threshold): counts or correlates events over time
--   powershell-encoded-command (spoor, rules/powershell.yml:3): decode_ps() has no SQL form
--   recon-accounts (spoor, rules/recon.yml:7): decode_ps() has no SQL form
--   recon-groups (spoor, rules/recon.yml:42): decode_ps() has no SQL form
--   recon-shares (spoor, rules/recon.yml:71): decode_ps() has no SQL form
--   recon-software (spoor, rules/recon.yml:104): decode_ps() has no SQL form
--   recon-domain (spoor, rules/recon.yml:127): decode_ps() has no SQL form
--   recon-ad-collection-tool (spoor, rules/recon.yml:150): decode_ps() has no SQL form
--   7d4c1f0e-0000-4000-8000-000000000003 (sigma, testdata/rules/keywords.yml:1): keywords (a search in every value)

CREATE OR REPLACE VIEW spoor_events AS
SELECT * FROM (SELECT *, (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v10" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v11" ELSE "_v10" END) AS "_rv0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l10" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l11" ELSE "_l10" END) AS "_rl0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p10" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p11" ELSE "_p10" END) AS "_rp0",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v12" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v13" ELSE "_v12" END) AS "_rv1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l12" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l13" ELSE "_l12" END) AS "_rl1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p12" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p13" ELSE "_p12" END) AS "_rp1",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_v15" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_v2" ELSE "_v15" END) AS "_rv2",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_l15" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_l2" ELSE "_l15" END) AS "_rl2",
    (CASE WHEN (lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) THEN "_p15" WHEN (lower("channel") = 'security' AND "event_id" IN (4688)) THEN "_p2" ELSE "_p15" END) AS "_rp2"
  FROM (SELECT *, (CASE WHEN "_h2" THEN "_f2" ELSE coalesce("_n2", '') END) AS "_v2",
    lower((CASE WHEN "_h2" THEN "_f2" ELSE coalesce("_n2", '') END)) AS "_l2",
    ("_h2" OR "_n2" IS NOT NULL) AS "_p2",
    (CASE WHEN "_h6" THEN "_f6" ELSE coalesce("_n6", '') END) AS "_v6",
    lower((CASE WHEN "_h6" THEN "_f6" ELSE coalesce("_n6", '') END)) AS "_l6",
    ("_h6" OR "_n6" IS NOT NULL) AS "_p6",
    (CASE WHEN "_h7" THEN "_f7" ELSE coalesce("_n7", '') END) AS "_v7",
    lower((CASE WHEN "_h7" THEN "_f7" ELSE coalesce("_n7", '') END)) AS "_l7",
    ("_h7" OR "_n7" IS NOT NULL) AS "_p7",
    (CASE WHEN "_h8" THEN "_f8" ELSE coalesce("_n8", '') END) AS "_v8",
    lower((CASE WHEN "_h8" THEN "_f8" ELSE coalesce("_n8", '') END)) AS "_l8",
    ("_h8" OR "_n8" IS NOT NULL) AS "_p8",
    (CASE WHEN "_h9" THEN "_f9" ELSE coalesce("_n9", '') END) AS "_v9",
    lower((CASE WHEN "_h9" THEN "_f9" ELSE coalesce("_n9", '') END)) AS "_l9",
    ("_h9" OR "_n9" IS NOT NULL) AS "_p9",
    (CASE WHEN "_h10" THEN "_f10" ELSE coalesce("_n10", '') END) AS "_v10",
    lower((CASE WHEN "_h10" THEN "_f10" ELSE coalesce("_n10", '') END)) AS "_l10",
    ("_h10" OR "_n10" IS NOT NULL) AS "_p10",
    (CASE WHEN "_h11" THEN "_f11" ELSE coalesce("_n11", '') END) AS "_v11",
    lower((CASE WHEN "_h11" THEN "_f11" ELSE coalesce("_n11", '') END)) AS "_l11",
    ("_h11" OR "_n11" IS NOT NULL) AS "_p11",
    (CASE WHEN "_h12" THEN "_f12" ELSE coalesce("_n12", '') END) AS "_v12",
    lower((CASE WHEN "_h12" THEN "_f12" ELSE coalesce("_n12", '') END)) AS "_l12",
    ("_h12" OR "_n12" IS NOT NULL) AS "_p12",
    (CASE WHEN "_h13" THEN "_f13" ELSE coalesce("_n13", '') END) AS "_v13",
    lower((CASE WHEN "_h13" THEN "_f13" ELSE coalesce("_n13", '') END)) AS "_l13",
    ("_h13" OR "_n13" IS NOT NULL) AS "_p13",
    (CASE WHEN "_h14" THEN "_f14" ELSE coalesce("_n14", '') END) AS "_v14",
    lower((CASE WHEN "_h14" THEN "_f14" ELSE coalesce("_n14", '') END)) AS "_l14",
    ("_h14" OR "_n14" IS NOT NULL) AS "_p14",
    (CASE WHEN "_h15" THEN "_f15" ELSE coalesce("_n15", '') END) AS "_v15",
    lower((CASE WHEN "_h15" THEN "_f15" ELSE coalesce("_n15", '') END)) AS "_l15",
    ("_h15" OR "_n15" IS NOT NULL) AS "_p15"
  FROM (SELECT *, coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetUserName"]'), '') AS "_f0",
    coalesce(json_extract(nullif("fields", ''), '$["TargetUserName"]') IS NOT NULL, FALSE) AS "_h0",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["TargetSid"]'), '') AS "_f1",
    coalesce(json_extract(nullif("fields", ''), '$["TargetSid"]') IS NOT NULL, FALSE) AS "_h1",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["SubjectUserName"]'), '') AS "_f2",
    coalesce(json_extract(nullif("fields", ''), '$["SubjectUserName"]') IS NOT NULL, FALSE) AS "_h2",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."SubjectUserName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n2",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ServiceName"]'), '') AS "_f3",
    coalesce(json_extract(nullif("fields", ''), '$["ServiceName"]') IS NOT NULL, FALSE) AS "_h3",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ImagePath"]'), '') AS "_f4",
    coalesce(json_extract(nullif("fields", ''), '$["ImagePath"]') IS NOT NULL, FALSE) AS "_h4",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ServiceFileName"]'), '') AS "_f5",
    coalesce(json_extract(nullif("fields", ''), '$["ServiceFileName"]') IS NOT NULL, FALSE) AS "_h5",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["LogonType"]'), '') AS "_f6",
    coalesce(json_extract(nullif("fields", ''), '$["LogonType"]') IS NOT NULL, FALSE) AS "_h6",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."LogonType"' WITH ARRAY WRAPPER), '$[0]') END AS "_n6",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["IpAddress"]'), '') AS "_f7",
    coalesce(json_extract(nullif("fields", ''), '$["IpAddress"]') IS NOT NULL, FALSE) AS "_h7",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."IpAddress"' WITH ARRAY WRAPPER), '$[0]') END AS "_n7",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["IpPort"]'), '') AS "_f8",
    coalesce(json_extract(nullif("fields", ''), '$["IpPort"]') IS NOT NULL, FALSE) AS "_h8",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."IpPort"' WITH ARRAY WRAPPER), '$[0]') END AS "_n8",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["WorkstationName"]'), '') AS "_f9",
    coalesce(json_extract(nullif("fields", ''), '$["WorkstationName"]') IS NOT NULL, FALSE) AS "_h9",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."WorkstationName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n9",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ParentImage"]'), '') AS "_f10",
    coalesce(json_extract(nullif("fields", ''), '$["ParentImage"]') IS NOT NULL, FALSE) AS "_h10",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."ParentImage"' WITH ARRAY WRAPPER), '$[0]') END AS "_n10",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["ParentProcessName"]'), '') AS "_f11",
    coalesce(json_extract(nullif("fields", ''), '$["ParentProcessName"]') IS NOT NULL, FALSE) AS "_h11",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."ParentProcessName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n11",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["Image"]'), '') AS "_f12",
    coalesce(json_extract(nullif("fields", ''), '$["Image"]') IS NOT NULL, FALSE) AS "_h12",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."Image"' WITH ARRAY WRAPPER), '$[0]') END AS "_n12",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["NewProcessName"]'), '') AS "_f13",
    coalesce(json_extract(nullif("fields", ''), '$["NewProcessName"]') IS NOT NULL, FALSE) AS "_h13",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."NewProcessName"' WITH ARRAY WRAPPER), '$[0]') END AS "_n13",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["CommandLine"]'), '') AS "_f14",
    coalesce(json_extract(nullif("fields", ''), '$["CommandLine"]') IS NOT NULL, FALSE) AS "_h14",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."CommandLine"' WITH ARRAY WRAPPER), '$[0]') END AS "_n14",
    coalesce(json_extract_scalar(nullif("fields", ''), '$["User"]'), '') AS "_f15",
    coalesce(json_extract(nullif("fields", ''), '$["User"]') IS NOT NULL, FALSE) AS "_h15",
    CASE WHEN _small THEN json_extract_scalar(json_query(nullif("fields", ''), 'lax $.*."User"' WITH ARRAY WRAPPER), '$[0]') END AS "_n15"
  FROM (SELECT *, coalesce(cardinality(map_keys(cast(json_parse(nullif("fields", '')) AS map(varchar, json)))) <= 3, FALSE) AS _small FROM hive.spoor.acme_events) e0) e1) e2) e3;

-- user-account-created: User account created
SELECT 'user-account-created' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4720) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ("event_id" = 4720));

-- privileged-group-member-added: Member added to a privileged group
SELECT 'privileged-group-member-added' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4728, 4732, 4756) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) IN ('account operators', 'administratoren', 'administrators', 'backup operators', 'dnsadmins', 'domain admins', 'domänen-admins', 'enterprise admins', 'group policy creator owners', 'remote desktop users', 'schema admins', 'server operators', 's-1-5-32-544', 's-1-5-32-548', 's-1-5-32-549', 's-1-5-32-550', 's-1-5-32-551', 's-1-5-32-555') OR ((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE 's-1-5-21-%' ESCAPE '!' AND ((CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-512' ESCAPE '!' OR (CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-518' ESCAPE '!' OR (CASE WHEN strpos(lower("_f0"), '\') > 0 THEN reverse(substr(reverse(lower("_f0")), 1, strpos(reverse(lower("_f0")), '\') - 1)) ELSE lower("_f0") END) LIKE '%-519' ESCAPE '!'))) OR ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) IN ('account operators', 'administratoren', 'administrators', 'backup operators', 'dnsadmins', 'domain admins', 'domänen-admins', 'enterprise admins', 'group policy creator owners', 'remote desktop users', 'schema admins', 'server operators', 's-1-5-32-544', 's-1-5-32-548', 's-1-5-32-549', 's-1-5-32-550', 's-1-5-32-551', 's-1-5-32-555') OR ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE 's-1-5-21-%' ESCAPE '!' AND ((CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-512' ESCAPE '!' OR (CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-518' ESCAPE '!' OR (CASE WHEN strpos(lower("_f1"), '\') > 0 THEN reverse(substr(reverse(lower("_f1")), 1, strpos(reverse(lower("_f1")), '\') - 1)) ELSE lower("_f1") END) LIKE '%-519' ESCAPE '!')))));

-- account-enabled-or-reset-by-other: Account enabled, or its password reset by another account
SELECT 'account-enabled-or-reset-by-other' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4722, 4724) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (("event_id" = 4722) OR (lower("_f2") <> lower("_f0"))));

-- account-enabled-or-reset-by-provider-or-off-hours: Account enabled or password reset by the provider or outside business hours
SELECT 'account-enabled-or-reset-by-provider-or-off-hours' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4722, 4724) AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((("event_id" = 4722) OR (lower("_f2") <> lower("_f0"))) AND ((("subject_user" <> '' AND (lower("subject_user") LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'corp\ct-%' ESCAPE '!' OR lower("subject_user") LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'ct-%' ESCAPE '!' OR lower("subject_user") LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower("subject_user") LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'erp-%' ESCAPE '!')) OR ("_f2" <> '' AND (lower("_f2") LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'corp\ct-%' ESCAPE '!' OR lower("_f2") LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'ct-%' ESCAPE '!' OR lower("_f2") LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower("_f2") LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower("_f2"), '\') > 0 THEN reverse(substr(reverse(lower("_f2")), 1, strpos(reverse(lower("_f2")), '\') - 1)) ELSE lower("_f2") END) LIKE 'erp-%' ESCAPE '!'))) OR (NOT ((day_of_week((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) IN (1, 2, 3, 4, 5)) AND NOT (format_datetime((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'), 'yyyy-MM-dd') IN ('2026-11-01')) AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) >= 420 AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) < 1140)))));

-- provider-logon-off-hours: Provider logon outside business hours
SELECT 'provider-logon-off-hours' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (4624, 4648, 1149) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((((("event_id" = 4624) AND ("logon_type" IN (2, 3, 7, 10, 11))) OR ("event_id" = 4648)) OR ("event_id" = 1149)) AND ((("user" <> '' AND (lower("user") LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("user"), '\') > 0 THEN reverse(substr(reverse(lower("user")), 1, strpos(reverse(lower("user")), '\') - 1)) ELSE lower("user") END) LIKE 'corp\ct-%' ESCAPE '!' OR lower("user") LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("user"), '\') > 0 THEN reverse(substr(reverse(lower("user")), 1, strpos(reverse(lower("user")), '\') - 1)) ELSE lower("user") END) LIKE 'ct-%' ESCAPE '!' OR lower("user") LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower("user"), '\') > 0 THEN reverse(substr(reverse(lower("user")), 1, strpos(reverse(lower("user")), '\') - 1)) ELSE lower("user") END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower("user") LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower("user"), '\') > 0 THEN reverse(substr(reverse(lower("user")), 1, strpos(reverse(lower("user")), '\') - 1)) ELSE lower("user") END) LIKE 'erp-%' ESCAPE '!')) OR (("subject_user" <> '' AND (lower("subject_user") LIKE 'corp\ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'corp\ct-%' ESCAPE '!' OR lower("subject_user") LIKE 'ct-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'ct-%' ESCAPE '!' OR lower("subject_user") LIKE '%@comtech-it.de' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE '%@comtech-it.de' ESCAPE '!' OR lower("subject_user") LIKE 'erp-%' ESCAPE '!' OR (CASE WHEN strpos(lower("subject_user"), '\') > 0 THEN reverse(substr(reverse(lower("subject_user")), 1, strpos(reverse(lower("subject_user")), '\') - 1)) ELSE lower("subject_user") END) LIKE 'erp-%' ESCAPE '!')) AND ("event_id" = 4648))) OR regexp_like("src_ip", '^(10\.250\.0\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|192\.0\.2\.80|198\.51\.100\.40)$'))) AND (NOT ((day_of_week((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) IN (1, 2, 3, 4, 5)) AND NOT (format_datetime((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'), 'yyyy-MM-dd') IN ('2026-11-01')) AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) >= 420 AND (hour((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin')) * 60 + minute((with_timezone("time", 'UTC') AT TIME ZONE 'Europe/Berlin'))) < 1140))));

-- remote-access-service-installed: Remote-access tool installed as a service
SELECT 'remote-access-service-installed' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (7045, 4697) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'screenconnect') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'connectwise') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'anydesk') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'teamviewer') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'atera') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'splashtop') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'ninjarmm') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'ninjaone') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'kaseya') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'agentmon') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'datto') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'centrastage') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'aem agent') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'rustdesk') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'logmein') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'gotoassist') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'goto resolve') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'bomgar') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'beyondtrust') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'netsupport') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'client32.exe') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'remote utilities') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'rutserv') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'rfusclient') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'meshagent') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'tacticalrmm') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'level.io') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'zoho assist') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'zohomeeting') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'supremo') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'ammyy') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'dwagent') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'action1') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'simplehelp') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'remotepc') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'pdq') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'syncro') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'n-able') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'solarwinds msp') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'itsupport247') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'tightvnc') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'ultravnc') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'realvnc') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'winvnc') > 0) OR (strpos(lower((((((("process" || ' ') || "_f3") || ' ') || "_f4") || ' ') || "_f5")), 'tvnserver') > 0)));

-- event-log-cleared: Event log cleared
SELECT 'event-log-cleared' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1102, 104) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((("event_id" = 1102) AND (("channel" = '') OR (lower("channel") = 'security'))) OR (("event_id" = 104) AND (("provider" = '') OR (strpos(lower("provider"), lower('eventlog')) > 0)))));

-- event-logging-stopped: Event logging service stopped
SELECT 'event-logging-stopped' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1100) AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((lower("channel") = 'security') OR ("channel" = '')));

-- 7d4c1f0e-0000-4000-8000-000000000002: RDP logon from a documentation network
SELECT '7d4c1f0e-0000-4000-8000-000000000002' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("source" IN ('evtx') AND lower("channel") IN ('security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND ((lower("channel") = 'security') AND (((TRUE AND lower(cast("event_id" AS varchar)) LIKE '4624' ESCAPE '!') AND ("_p6" AND "_l6" LIKE '10' ESCAPE '!')) AND (("_p7" AND regexp_like(trim("_v7"), '^(192\.0\.2\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$')) OR ("_p7" AND regexp_like(trim("_v7"), '^(198\.51\.(100|101)\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$'))) AND ("_p8" AND (NOT lower(trim("_v8")) LIKE '0x%' ESCAPE '!' AND coalesce(try_cast(trim("_v8") AS DOUBLE) > 1024, FALSE))) AND "_p9")));

-- 7d4c1f0e-0000-4000-8000-000000000001: Encoded or hidden PowerShell started by an RMM agent
SELECT '7d4c1f0e-0000-4000-8000-000000000001' AS rule_id, "source", "evidence", "offset", "time", "host"
FROM spoor_events
WHERE ("event_id" IN (1, 4688) AND "source" IN ('evtx') AND lower("channel") IN ('microsoft-windows-sysmon/operational', 'security') AND "time" >= TIMESTAMP '2026-10-17 07:00:00' AND "time" < TIMESTAMP '2026-11-16 08:00:00' AND (((lower("channel") = 'microsoft-windows-sysmon/operational' AND "event_id" IN (1)) OR (lower("channel") = 'security' AND "event_id" IN (4688))) AND (("_rp0" AND ("_rl0" LIKE '%\anydesk%.exe' ESCAPE '!' OR "_rl0" LIKE '%\screenconnect.clientservice.exe' ESCAPE '!')) AND ((("_rp1" AND "_rl1" LIKE '%\powershell.exe' ESCAPE '!') AND ("_p14" AND (strpos("_l14", ' -enc ') > 0 OR strpos("_l14", ' /enc ') > 0 OR strpos("_l14", ' –enc ') > 0 OR strpos("_l14", ' —enc ') > 0 OR strpos("_l14", ' ―enc ') > 0))) OR ("_p14" AND strpos("_l14", 'hidden') > 0 AND strpos("_l14", 'bypass') > 0) OR ("_p14" AND (strpos("_l14", 'jbnzva2utv2viumvxdwvzd') > 0 OR strpos("_l14", 'ludm9rzs1xzwjszxf1zxn0') > 0 OR strpos("_l14", 'sw52b2tllvdlyljlcxvlc3') > 0)) OR ("_p14" AND regexp_like("_v14", '(?i)iex\s*\('))) AND (NOT (NOT "_rp2" OR "_rv2" = '')))));

