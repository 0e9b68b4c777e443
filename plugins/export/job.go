package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/failpoint"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

// jobRecord is a job as kept in the plugin's KV under "job/<id>".
type jobRecord struct {
	Job      Job       `json:"job"`
	State    string    `json:"state"` // running, done, failed
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Err      string    `json:"err,omitempty"`
	Outcome  *Outcome  `json:"outcome,omitempty"`
	// Audited is set once export.done is in the audit log.
	Audited bool `json:"audited,omitempty"`
}

const (
	jobRunning = "running"
	jobDone    = "done"
	jobFailed  = "failed"
)

func (p *Plugin) loadJob(ctx context.Context, id string) (*jobRecord, error) {
	b, err := p.env.KV.Get(ctx, "job/"+id)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r jobRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return &r, nil
}

func (p *Plugin) saveJob(ctx context.Context, r *jobRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return p.env.KV.Put(ctx, "job/"+r.Job.ID, b)
}

// Settings builds the archive options for a group from the export
// config, the global config and the bot version; Dir, Now, FS and
// Progress are the caller's.
func Settings(cfg *Config, global *bot.Config, version string) (archive.Options, error) {
	f, err := cfg.formats()
	if err != nil {
		return archive.Options{}, err
	}
	return archive.Options{
		Formats:        f,
		Redact:         cfg.Redact,
		Recipients:     cfg.Recipients,
		Location:       global.Location,
		BotVersion:     version,
		ConfigSnapshot: global.Redacted(),
	}, nil
}

// Archive writes the job's archive, re-reads and verifies it, records it
// in the audit log with its manifest hash and returns it. A job that
// already finished is returned as recorded, after checking its archive
// again; a job whose earlier attempt did not finish is written anew in an
// emptied folder, so a retry never leaves two archives. A failed, partial
// or unverifiable export is an error: nothing it left looks complete.
func (p *Plugin) Archive(ctx context.Context, j Job) (*Outcome, error) {
	if !p.claim(j.Group, j.ID) {
		return nil, ErrBusy
	}
	defer p.release(j.Group)
	log := p.env.Log.With("group_id", string(j.Group), "job", j.ID)

	rec, err := p.loadJob(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	if rec != nil && rec.State == jobDone && rec.Outcome != nil {
		if err := Check(rec.Outcome); err != nil {
			return nil, err
		}
		return rec.Outcome, p.auditDone(ctx, rec)
	}
	dir := p.jobDir(j)
	// Whatever an unfinished attempt left (a .partial folder after a
	// crash) was never handed out; it goes before the new attempt.
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	rec = &jobRecord{Job: j, State: jobRunning, Started: p.env.Now()}
	if err := p.saveJob(ctx, rec); err != nil {
		return nil, err
	}
	failpoint.Inject("export.started")

	g, err := p.env.Store.Group(ctx, j.Group)
	if err != nil {
		return nil, err
	}
	cfg := bot.ConfigFor[Config](p.env, j.Group)
	opts, err := Settings(cfg, p.env.Global(), p.env.Runtime().Version())
	if err != nil {
		return nil, err
	}
	opts.Dir, opts.Now, opts.FS, opts.Log, opts.GroupName = dir, p.env.Now, p.FS, p.env.Log, j.GroupName
	opts.Progress = func(done, total int) { failpoint.Inject("export.writing") }
	// The group-commit writer may still hold the newest messages (the
	// /export command itself): the archive is to include them.
	if err := p.env.SyncRecords(ctx); err != nil {
		return nil, fmt.Errorf("export: flush recorded messages: %w", err)
	}
	log.Info("export started", "reason", j.Reason)
	res, werr := archive.Write(ctx, archive.FromStore(p.env.Store, g.ID), opts)
	var out *Outcome
	if werr == nil {
		failpoint.Inject("export.written")
		out, werr = NewOutcome(j, res)
	}
	if werr != nil {
		rec.State, rec.Err, rec.Finished = jobFailed, werr.Error(), p.env.Now()
		if err := p.saveJob(ctx, rec); err != nil {
			log.Error("failed export not recorded", "err", err)
		}
		if dirEmpty(dir) {
			_ = os.Remove(dir)
		}
		log.Error("export failed", "err", werr)
		_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: j.Group, Actor: j.By, Action: "export.failed",
			Detail: "export failed: " + werr.Error(), Data: map[string]string{"job": j.ID, "reason": j.Reason}})
		return nil, werr
	}
	rec.State, rec.Outcome, rec.Finished = jobDone, out, p.env.Now()
	if err := p.saveJob(ctx, rec); err != nil {
		return nil, err
	}
	failpoint.Inject("export.recorded")
	log.Info("export verified", "archive", out.Name, "records", out.Records, "manifest_sha256", out.ManifestSHA256)
	return out, p.auditDone(ctx, rec)
}

// auditDone writes the job's export.done entry, with the manifest hash,
// unless it is already written (a job resumed after a crash).
func (p *Plugin) auditDone(ctx context.Context, rec *jobRecord) error {
	if rec.Audited {
		return nil
	}
	j, out := rec.Job, rec.Outcome
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: j.Group, Actor: j.By, Action: "export.done",
		Detail: fmt.Sprintf("archive %s written and verified: %d records", out.Name, out.Records),
		Data: map[string]string{"job": j.ID, "reason": j.Reason, "manifest_sha256": out.ManifestSHA256, "file_sha256": out.FileSHA256,
			"records": strconv.FormatInt(out.Records, 10), "reconciled": strconv.FormatBool(out.Reconciled), "archive": out.Name}}); err != nil {
		return err
	}
	rec.Audited = true
	return p.saveJob(ctx, rec)
}

// NewOutcome describes a verified archive the engine wrote for j.
func NewOutcome(j Job, res *archive.Result) (*Outcome, error) {
	m := res.Manifest
	out := &Outcome{
		Job: j.ID, Group: j.Group, Name: res.Name, Dir: res.Dir, Zip: res.Zip, Encrypted: res.Encrypted,
		ManifestSHA256: res.ManifestSHA256, Created: m.Created, Records: m.Counts.Written.Records,
		Messages: m.Counts.Written.Messages, Days: len(m.Days), Reconciled: res.Reconciled,
		WindowStart: m.Coverage.WindowStart, WindowEnd: m.Coverage.WindowEnd, OfflineSeconds: m.Coverage.OfflineSeconds,
		Redacted: -1,
	}
	if m.Redaction.Enabled {
		out.Redacted = m.Redaction.Count
	}
	for _, g := range m.Coverage.Gaps {
		out.Gaps = append(out.Gaps, Gap{From: g.From, To: g.To})
	}
	out.File = out.Zip
	if out.Encrypted != "" {
		out.File = out.Encrypted
	}
	sum, size, err := fileSHA256(out.File)
	if err != nil {
		return nil, err
	}
	out.FileSHA256, out.Size = sum, size
	return out, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ErrChanged is matched by Check's error when an archive is not the one
// recorded at export.
var ErrChanged = errors.New("archive differs from the one recorded at export")

// Check verifies a finished archive again: the folder and the zip against
// their manifest, and the manifest against the hash recorded at export.
// An encrypted archive, which only its recipients can open, is checked by
// the SHA-256 of the whole file, recorded at export right after the
// engine decrypted and verified it.
func Check(o *Outcome) error {
	if o.Encrypted != "" {
		sum, _, err := fileSHA256(o.Encrypted)
		if err != nil {
			return fmt.Errorf("%w: %w", archive.ErrVerify, err)
		}
		if sum != o.FileSHA256 {
			return fmt.Errorf("%w: %s: %w", archive.ErrVerify, o.Encrypted, ErrChanged)
		}
		return nil
	}
	rep, err := archive.Verify(o.Dir)
	if err != nil {
		return err
	}
	if rep.ManifestSHA256 != o.ManifestSHA256 {
		return fmt.Errorf("%w: %s: manifest.json %w", archive.ErrVerify, o.Dir, ErrChanged)
	}
	zrep, err := archive.VerifyZip(o.Zip)
	if err != nil {
		return err
	}
	if zrep.ManifestSHA256 != o.ManifestSHA256 {
		return fmt.Errorf("%w: %s: manifest.json %w", archive.ErrVerify, o.Zip, ErrChanged)
	}
	return nil
}
