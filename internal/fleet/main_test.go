package fleet

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	redis.SetLogger(RedisLogger{}) // go-redis's dial failures are the point of several tests
	os.Exit(m.Run())
}
