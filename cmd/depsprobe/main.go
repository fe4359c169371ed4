package main
import (
 _ "github.com/golang-jwt/jwt/v5"
 _ "github.com/MicahParks/keyfunc/v3"
 _ "cel.dev/cel-go/cel"
 _ "github.com/maypok86/otter/v2"
 _ "golang.org/x/sync/singleflight"
 _ "go.yaml.in/yaml/v3"
 _ "github.com/fsnotify/fsnotify"
 _ "github.com/spf13/cobra"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "golang.org/x/time/rate"
 _ "github.com/sony/gobreaker/v2"
 _ "github.com/google/go-cmp/cmp"
 _ "golang.org/x/net/http2"
)
func main(){}
