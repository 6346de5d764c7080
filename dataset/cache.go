package dataset

import (
	"container/list"
	"sync"
)

// DefaultCacheBytes is the memory bound of the decoded-sample cache when
// Options.CacheBytes is zero.
const DefaultCacheBytes = 512 << 20

// cache keeps decoded images and masks, by path, within a bound in bytes, dropping the
// least recently used first. It is safe for concurrent use. A nil *cache keeps nothing.
type cache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	order *list.List // front: most recently used; values are *cacheEntry
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key  string
	val  any // []float32, []int32, or a shrunk *augment.Sample
	size int64
}

func newCache(limit int64) *cache {
	if limit <= 0 {
		return nil
	}
	return &cache{limit: limit, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns the value kept for key.
func (c *cache) get(key string) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).val, true
}

// put keeps val, of size bytes, under key, dropping older values to stay within the
// limit. A value larger than the whole limit is not kept.
func (c *cache) put(key string, val any, size int64) {
	if c == nil || size > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		old := e.Value.(*cacheEntry)
		c.used += size - old.size
		old.val, old.size = val, size
		c.order.MoveToFront(e)
	} else {
		c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, val: val, size: size})
		c.used += size
	}
	for c.used > c.limit {
		e := c.order.Back()
		old := e.Value.(*cacheEntry)
		c.order.Remove(e)
		delete(c.byKey, old.key)
		c.used -= old.size
	}
}
