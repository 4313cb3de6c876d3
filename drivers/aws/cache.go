package aws

import (
	"sync"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// attrTTL bounds how long a target group's attributes are trusted.
const attrTTL = 5 * time.Minute

// cache keeps what does not change between passes: target group
// attributes (for attrTTL), the load balancer of a target group, and
// images once AVAILABLE (an image version's AMI never changes).
type cache struct {
	mu     sync.Mutex
	delays map[string]cachedDelay
	lbs    map[string]string
	images map[reconciler.ImageQuery]reconciler.Image
}

type cachedDelay struct {
	v  time.Duration
	at time.Time
}

func newCache() *cache {
	return &cache{delays: map[string]cachedDelay{}, lbs: map[string]string{}, images: map[reconciler.ImageQuery]reconciler.Image{}}
}

func (c *cache) delay(arn string, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.delays[arn]
	if !ok || now.Sub(v.at) > attrTTL || now.Before(v.at) {
		return 0, false
	}
	return v.v, true
}

func (c *cache) setDelay(arn string, v time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delays[arn] = cachedDelay{v: v, at: now}
}

func (c *cache) lb(tg string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lbs[tg]
	return v, ok
}

func (c *cache) setLB(tg, lb string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lbs[tg] = lb
}

func (c *cache) image(q reconciler.ImageQuery) (reconciler.Image, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.images[q]
	return v, ok
}

func (c *cache) setImage(q reconciler.ImageQuery, img reconciler.Image) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.images[q] = img
}
