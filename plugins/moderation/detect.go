package moderation

import (
	"sort"
	"strings"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// detectorNames are the detectors' names in rules and audit records.
var detectorNames = map[int]string{
	engine.DetectedLink:      "link",
	engine.DetectedPhone:     "phone",
	engine.DetectedContactID: "contact_id",
}

// detect runs the detectors the config turns on and returns their hits,
// links to allowed domains left out.
func (c *Config) detect(text string, dst []engine.Hit) []engine.Hit {
	d := c.Detectors
	if d.Links != "" {
		start := len(dst)
		dst = engine.DetectLinks(text, dst)
		keep := dst[:start]
		for _, h := range dst[start:] {
			if !allowedDomain(text[h.Start:h.End], d.AllowDomains) {
				keep = append(keep, h)
			}
		}
		dst = keep
	}
	if d.Phones != "" {
		dst = engine.DetectPhones(text, dst)
	}
	if d.ContactIDs != "" {
		dst = engine.DetectContactIDs(text, dst)
	}
	return dst
}

// detectorCategory is the category a detector hit counts as.
func (c *Config) detectorCategory(pattern int) string {
	switch pattern {
	case engine.DetectedLink:
		return c.Detectors.Links
	case engine.DetectedPhone:
		return c.Detectors.Phones
	case engine.DetectedContactID:
		return c.Detectors.ContactIDs
	}
	return ""
}

// allowedDomain reports whether a detected link points into one of the
// allowed domains (or a subdomain of one).
func allowedDomain(link string, allowed []string) bool {
	if len(allowed) == 0 {
		return false
	}
	host := strings.ToLower(bot.FoldWidth(link))
	host = strings.NewReplacer("点", ".", "。", ".", "｡", ".").Replace(host)
	for _, scheme := range []string{"https://", "http://", "ftp://"} {
		host = strings.TrimPrefix(host, scheme)
	}
	if i := strings.IndexAny(host, "/?#:"); i >= 0 {
		host = host[:i]
	}
	for _, d := range allowed {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// sortHits orders keyword and detector hits by position, so the first hit
// of a category is the first in the text.
func sortHits(hits []engine.Hit) []engine.Hit {
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Start < hits[j].Start })
	return hits
}
