package plugins

import (
	"reflect"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
)

// TestGlobalOnlyKeysExist checks that every key a plugin declares global
// only (bot.GlobalOnly) is a key of its config, so renaming one cannot
// quietly let per-group overrides of it through again.
func TestGlobalOnlyKeysExist(t *testing.T) {
	for _, p := range All() {
		cp, ok := p.(bot.Configurable)
		if !ok {
			continue
		}
		g, ok := cp.DefaultConfig().(bot.GlobalOnly)
		if !ok {
			continue
		}
		for _, key := range g.GlobalOnlyKeys() {
			if key == "*" {
				continue
			}
			typ := reflect.TypeOf(g)
			for _, part := range strings.Split(key, ".") {
				for typ.Kind() == reflect.Pointer {
					typ = typ.Elem()
				}
				f, found := yamlField(typ, part)
				if !found {
					t.Errorf("plugin %s: global-only key %q: no %q in %s", p.Name(), key, part, typ)
					break
				}
				typ = f
			}
		}
	}
}

func yamlField(t reflect.Type, name string) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}
