// Package archive writes and verifies a group's export archive: the record
// a group leaves behind before it is dissolved. The export plugin and the
// dissolve lifecycle drive it; export is a hard gate, so everything here is
// built to fail loudly rather than leave something that looks complete and
// is not.
//
// # Layout
//
// Write creates, under Options.Dir, a folder <group-slug>-<UTC time> (for
// example 周末活动群-g_7k2m9qxw0a-20260405T080000Z) and a zip of it whose
// entries sit under that folder name:
//
//	manifest.json     written last: format version, group, creation time, bot
//	                  version, time zone, config hash, coverage window and
//	                  offline gaps, per-day counts written and expected from
//	                  the store with a reconciled flag, media copied and
//	                  missing, redaction count, and size and SHA-256 of every
//	                  other file
//	messages.jsonl    one JSON object per record, every field (Telegram-export
//	                  names: id, type, kind, date, date_unixtime, from, from_id,
//	                  text, media{file_name,size,path,source_path,missing}, ...)
//	messages.csv      UTF-8 with BOM for Excel, formula-injection guarded
//	messages.xlsx     sheets 消息1, 消息2, 消息3 of at most 1,048,576 rows, cells
//	                  cut visibly at 32,767 characters, and a 成员 sheet; a
//	                  longer history goes on in messages2.xlsx (消息4, ...)
//	messages.html     pages of 1,000 records (messages2.html, ...) that read
//	                  like the chat; self-contained, images inline from media/
//	members.csv       members with join and leave times and activity
//	members.jsonl     the same, one JSON object per member
//	media/            the attachments the bot downloaded, <seq>_<name>
//	config.yaml       the effective configuration, secrets removed by the caller
//	README.txt        what the files are, in Chinese and English
//	SHA256SUMS        for "sha256sum -c" without this package
//
// With Options.Recipients the archive is kept only as <name>.zip.age,
// encrypted with age to the operators' keys.
//
// # Guarantees
//
// The history is scanned once and streamed to every format; memory does
// not grow with the number of messages (media names and the missing-media
// list grow with the number of attachments). Everything is written into
// <name>.partial, each file synced; the manifest is written last. The
// folder is then re-read and verified (Verify) while it is zipped into
// <name>.zip.partial, the zip is re-read and verified (VerifyZip), and,
// when encrypting, the .zip.age is decrypted and verified too. Only then
// do the final names appear, the zip's first. A failure at any point (a
// write error, a full disk, a cancelled context) removes what was written;
// if even that fails, what remains is named .partial and has no manifest,
// so it cannot pass for an archive.
//
// Verify and VerifyZip fail on a missing, extra, resized or altered file,
// on a manifest that does not parse, and when the records of
// messages.jsonl (or messages.csv), counted again per day, differ from the
// manifest. They check the archive against its own manifest; that the
// manifest is the one written at export time is shown by comparing
// Report.ManifestSHA256 with the hash the audit log recorded
// (Result.ManifestSHA256).
//
// Per-day counts are reconciled with the store's hourly counts; a mismatch
// does not fail Write (the archive is still exactly what was read) but
// shows in Result.Reconciled and in the manifest, and the lifecycle decides.
package archive
