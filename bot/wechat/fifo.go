package wechat

import "sync"

// fifo runs queued functions one at a time, in order, on its own
// goroutine. The owner goroutine hands it the events to emit and the
// runtime calls it needs (tasks, alerts): those may block (the runtime's
// event queue can be full) or call back into the platform (creating a task
// DMs operators, which lists friends), and the owner goroutine must do
// neither or it could wait for itself. Pushing never blocks.
type fifo struct {
	mu    sync.Mutex
	items []func()
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
}

func newFifo() *fifo {
	return &fifo{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (f *fifo) push(fn func()) {
	f.mu.Lock()
	f.items = append(f.items, fn)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// run serves the queue until stop; what is still queued then is dropped,
// since the runtime no longer takes events.
func (f *fifo) run() {
	defer close(f.done)
	for {
		select {
		case <-f.quit:
			return
		default:
		}
		f.mu.Lock()
		var fn func()
		if len(f.items) > 0 {
			fn = f.items[0]
			f.items[0] = nil
			f.items = f.items[1:]
		}
		f.mu.Unlock()
		if fn != nil {
			fn()
			continue
		}
		select {
		case <-f.wake:
		case <-f.quit:
			return
		}
	}
}

// stop ends run and waits for the function in progress.
func (f *fifo) stop() {
	close(f.quit)
	<-f.done
}
