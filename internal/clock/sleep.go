package clock

import (
	"context"
	"time"
)

// Sleep pauses for d on clock c, returning early with ctx.Err() when the
// context ends first. Every wait in the provider goes through it, so that
// Ctrl-C and read deadlines end a pause at once instead of after it.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
