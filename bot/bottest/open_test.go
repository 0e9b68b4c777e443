package bottest_test

import (
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/store"
)

func bottestOpen(dir string) (*store.DB, error) {
	return store.Open(dir, store.Options{Logger: bottest.Logger()})
}
