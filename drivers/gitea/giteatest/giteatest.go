package giteatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
)

// Version is the Gitea release .ci/tool-gitea builds.
const Version = "1.26.0"

const (
	adminUser  = "amigo-admin"
	adminEmail = "amigo-admin@example.com"
	// startTimeout bounds migrate + start; a cold SQLite migration on a
	// busy machine takes a while.
	startTimeout = 3 * time.Minute
	stopTimeout  = 15 * time.Second
)

// Server is a running Gitea owned by one test.
type Server struct {
	url      string
	token    string
	password string
	dir      string
}

// URL returns the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Token returns an access token of the admin user with every scope.
func (s *Server) Token() string { return s.token }

// Owner returns the admin user's login, the owner of repositories created
// by CreateRepo.
func (s *Server) Owner() string { return adminUser }

// Start runs a fresh Gitea for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, static, err := findBinary()
	if err != nil {
		if os.Getenv("AMIGO_E2E") == "1" {
			t.Fatalf("AMIGO_E2E=1 but no gitea binary: %v (run .ci/tool-gitea or set GITEA_BIN)", err)
		}
		t.Skipf("no gitea %s binary (%v): run .ci/tool-gitea or set GITEA_BIN; AMIGO_E2E=1 makes this a failure", Version, err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	s := &Server{
		url:      "http://127.0.0.1:" + strconv.Itoa(port),
		password: randomHex(t, 16),
		dir:      t.TempDir(),
	}
	ini := filepath.Join(s.dir, "app.ini")
	if err := os.WriteFile(ini, []byte(s.appINI(port, static, randomHex(t, 32))), 0o600); err != nil {
		t.Fatalf("write app.ini: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s.run(ctx, t, bin, ini, "migrate")
	s.run(ctx, t, bin, ini, "admin", "user", "create", "--admin", "--username", adminUser,
		"--password", s.password, "--email", adminEmail, "--must-change-password=false")
	s.startWeb(ctx, t, bin, ini)
	s.token = s.createToken(t)
	return s
}

// findBinary returns the gitea binary and the module source directory used
// as STATIC_ROOT_PATH (the binary is built without bindata, so it reads
// locales and templates from there).
func findBinary() (bin, static string, err error) {
	bin = os.Getenv("GITEA_BIN")
	if bin == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", "", fmt.Errorf("find cache dir: %w", err)
			}
			cache = filepath.Join(home, ".cache")
		}
		bin = filepath.Join(cache, "amigo", "gitea-"+Version, "gitea")
	}
	static = os.Getenv("GITEA_SRC")
	if static == "" {
		static = filepath.Join(filepath.Dir(bin), "src")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", "", fmt.Errorf("%s is not an executable file", bin)
	}
	if _, err := os.Stat(filepath.Join(static, "options", "locale")); err != nil {
		return "", "", fmt.Errorf("gitea source dir %s lacks options/locale (set GITEA_SRC)", static)
	}
	return bin, static, nil
}

func (s *Server) appINI(port int, static, secretKey string) string {
	return fmt.Sprintf(`APP_NAME = amigo-test
RUN_MODE = prod
WORK_PATH = %[1]s

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = %[3]s/
STATIC_ROOT_PATH = %[4]s
APP_DATA_PATH = %[1]s/data
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db

[repository]
ROOT = %[1]s/repos
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = %[5]s

[service]
DISABLE_REGISTRATION = true

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 10

[mailer]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[cron.update_checker]
ENABLED = false

[log]
MODE = console
LEVEL = Warn
`, s.dir, port, s.url, static, secretKey)
}

// env is the environment of every gitea command: the test may run as root
// (containers, CI), which Gitea refuses unless told otherwise.
func (s *Server) env() []string {
	return append(os.Environ(),
		"GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true",
		"GITEA_WORK_DIR="+s.dir,
		"HOME="+s.dir,
	)
}

func (s *Server) run(ctx context.Context, t testing.TB, bin, ini string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", ini, "--work-path", s.dir}, args...)...)
	cmd.Env = s.env()
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gitea %s: %v\n%s", args[0], err, redact(out, s.password))
	}
}

func (s *Server) startWeb(ctx context.Context, t testing.TB, bin, ini string) {
	t.Helper()
	logPath := filepath.Join(s.dir, "gitea-web.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create gitea log: %v", err)
	}
	cmd := exec.Command(bin, "--config", ini, "--work-path", s.dir, "web")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = s.env(), s.dir, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start gitea web: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stop(t, cmd, exited)
		logFile.Close()
	})
	if err := waitHealthy(ctx, s.url, exited); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("gitea web did not become healthy: %v\n%s", err, tail(log, 4000))
	}
}

// stop ends the process this test started, by its pid: SIGTERM for a clean
// shutdown, SIGKILL when it does not stop in time.
func stop(t testing.TB, cmd *exec.Cmd, exited <-chan error) {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Logf("stop gitea (pid %d): %v", cmd.Process.Pid, err)
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		t.Logf("gitea (pid %d) ignored SIGTERM, killing it", cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-exited
	}
}

func waitHealthy(ctx context.Context, base string, exited <-chan error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("gitea exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// createToken makes an all-scope token through the API with basic auth,
// which is much faster than another CLI start.
func (s *Server) createToken(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := sdk.NewClient(s.url, sdk.SetBasicAuth(adminUser, s.password), sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	tok, _, err := cl.CreateAccessToken(sdk.CreateAccessTokenOption{
		Name: "amigo-test", Scopes: []sdk.AccessTokenScope{sdk.AccessTokenScopeAll},
	})
	if err != nil {
		t.Fatalf("create access token: %v", err)
	}
	return tok.Token
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

func redact(out []byte, secret string) []byte {
	return bytes.ReplaceAll(out, []byte(secret), []byte("[redacted]"))
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
