// Command fleetbench measures an edgeward fleet on this machine: three
// edge processes on one redis-server, the origin requests per object with
// and without the shared tier, and the invalidation latency from
// POST /invalidations on one node to Completed on every node (p50, p99).
// bench/fleet.sh builds edgeward and runs it; everything listens on
// 127.0.0.1 and stops on exit.
//
//	fleetbench -edgeward PATH [-objects N] [-clients N] [-invalidations N]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("edgeward", "", "the edgeward binary")
	objects := flag.Int("objects", 200, "distinct objects requested")
	clients := flag.Int("clients", 4, "concurrent clients per node")
	invalidations := flag.Int("invalidations", 200, "invalidations timed")
	originDelay := flag.Duration("origin-delay", 20*time.Millisecond, "origin response time")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "fleetbench: -edgeward is required")
		os.Exit(2)
	}
	if err := run(*bin, *objects, *clients, *invalidations, *originDelay); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func run(bin string, objects, clients, invalidations int, delay time.Duration) error {
	dir, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}()

	redisPort, err := freePort()
	if err != nil {
		return err
	}
	redis := exec.Command("redis-server", "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := redis.Start(); err != nil {
		return fmt.Errorf("redis-server (Debian package redis-server): %w", err)
	}
	procs = append(procs, redis)
	redisAddr := "127.0.0.1:" + strconv.Itoa(redisPort)
	if err := waitDial(redisAddr); err != nil {
		return err
	}

	o, err := startOrigin(delay)
	if err != nil {
		return err
	}
	defer o.srv.Close()

	fmt.Printf("fleetbench: 3 edge processes, redis-server, origin answering in %s; %d objects, %d clients per node\n\n", delay, objects, clients)
	fmt.Println("| shared tier | origin requests | per object | viewer requests |")
	fmt.Println("|---|---|---|---|")
	var nodes []*node
	for _, tier := range []bool{false, true} {
		prefix := "off"
		if tier {
			prefix = "on"
		}
		nodes = nodes[:0]
		for _, name := range []string{"a", "b", "c"} {
			n, cmd, err := startNode(bin, dir, name+prefix, o.addr, redisAddr, "bench-"+prefix, tier)
			if err != nil {
				return err
			}
			procs = append(procs, cmd)
			nodes = append(nodes, n)
		}
		for _, n := range nodes {
			if err := n.waitSynced(); err != nil {
				return err
			}
		}
		before := o.total.Load()
		viewer := load(nodes, "/"+prefix+"/", objects, clients)
		got := o.total.Load() - before
		fmt.Printf("| %s | %d | %.2f | %d |\n", prefix, got, float64(got)/float64(objects), viewer)
	}

	// Invalidation latency, on the last fleet (tier on).
	var lat []time.Duration
	for i := range invalidations {
		start := time.Now()
		id, err := nodes[i%3].invalidate(fmt.Sprintf("/on/%d", i%objects))
		if err != nil {
			return err
		}
		for {
			st, err := nodes[(i+1)%3].status(id)
			if err != nil {
				return err
			}
			if st == "Completed" {
				break
			}
			if time.Since(start) > 10*time.Second {
				return fmt.Errorf("invalidation %s not completed in 10s", id)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(int(float64(len(lat))*p), len(lat)-1)] }
	fmt.Printf("\ninvalidation, POST on one node → Completed on all 3 (status polled on another node), %d runs:\n", len(lat))
	fmt.Printf("p50 %s  p90 %s  p99 %s  max %s\n", q(.5).Round(10*time.Microsecond), q(.9).Round(10*time.Microsecond),
		q(.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	return nil
}

// load requests every object from every node, in a shuffled order per
// client, concurrently; it returns the number of viewer requests.
func load(nodes []*node, prefix string, objects, clients int) int64 {
	var wg sync.WaitGroup
	var n atomic.Int64
	for _, nd := range nodes {
		for range clients {
			order := rand.Perm(objects)
			wg.Go(func() {
				for _, i := range order {
					if nd.get(prefix+strconv.Itoa(i)) == nil {
						n.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	return n.Load()
}

// origin counts requests and answers a cacheable body after delay.
type origin struct {
	srv   *http.Server
	addr  string
	total atomic.Int64
}

func startOrigin(delay time.Duration) (*origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &origin{addr: ln.Addr().String()}
	o.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.total.Add(1)
		time.Sleep(delay) // the origin's own work
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "%s %s", r.URL.Path, strings.Repeat("x", 2048))
	})}
	go o.srv.Serve(ln)
	return o, nil
}

const config = `
listen: 127.0.0.1:0
admin: 127.0.0.1:0
origins:
  api: {url: "http://%s"}
behaviors:
  - path_pattern: "*"
    origin: api
    cache: {default_ttl: 60s}
fleet:
  redis: {address: %q}
  node: %s
  key_prefix: %s
  heartbeat: 200ms
  shared_tier: {enabled: %v}
logging: {format: json, access_log: {path: "off"}}
`

type node struct{ addr, admin string }

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func startNode(bin, dir, name, origin, redis, prefix string, tier bool) (*node, *exec.Cmd, error) {
	file := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, config, origin, redis, name, prefix, tier), 0o600); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, "serve", "-c", file)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	up := make(chan *node, 1)
	go func() {
		n := &node{}
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch rec.Msg {
			case "edge listening":
				n.addr = rec.Addr
			case "admin listening":
				n.admin = rec.Addr
			}
			if n.addr != "" && n.admin != "" && up != nil {
				up <- n
				up = nil
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case n := <-up:
		return n, cmd, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, nil, errors.New("edgeward did not start in 30s")
	}
}

func (n *node) get(path string) error {
	req, _ := http.NewRequest("GET", "http://"+n.addr+path, nil)
	req.Host = "api.example"
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return nil
}

func (n *node) waitSynced() error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := client.Get("http://" + n.admin + "/readyz?verbose")
		if err == nil {
			var h struct{ Fleet struct{ Synced bool } }
			json.NewDecoder(res.Body).Decode(&h)
			res.Body.Close()
			if h.Fleet.Synced {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("a node did not sync with redis in 10s")
}

func (n *node) invalidate(path string) (string, error) {
	res, err := client.Post("http://"+n.admin+"/invalidations", "application/json", strings.NewReader(`{"paths":["`+path+`"]}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var st struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != 201 {
		return "", fmt.Errorf("POST /invalidations: %s %v", res.Status, err)
	}
	return st.ID, nil
}

func (n *node) status(id string) (string, error) {
	res, err := client.Get("http://" + n.admin + "/invalidations/" + id)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var st struct{ Status string }
	return st.Status, json.NewDecoder(res.Body).Decode(&st)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitDial(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not listen on %s", addr)
}
