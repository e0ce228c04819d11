package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// dataDirLayout is where --data-dir puts each path key that was not set explicitly, so a test
// or a local trial keeps everything below one folder.
var dataDirLayout = map[string]string{
	"db":             "callconsent.db",
	"key-file":       "pseudonym.key",
	"audit-key-file": "audit.key",
	"recordings-dir": "recordings",
	"notices-dir":    "notices",
	"control-socket": "control.sock",
	// The trial password is made up by `run` on first start and read by `simulate`.
	"esl-password-file": "esl-password",
}

// configFlag holds a flag's text until LoadConfig parses it with the key's own parser; pflag
// never sees the typed value, so a bad flag fails exactly like the same bad value in the file.
type configFlag struct {
	typ  string
	vals []string
}

func (f *configFlag) String() string {
	if len(f.vals) == 0 {
		return ""
	}
	return f.vals[len(f.vals)-1]
}
func (f *configFlag) Set(v string) error { f.vals = append(f.vals, v); return nil }
func (f *configFlag) Type() string       { return f.typ }

// AddConfigFlags registers one flag per configuration key on fs, with the built-in default in
// its help text.
func AddConfigFlags(fs *pflag.FlagSet) {
	def := DefaultConfig()
	for _, s := range settings {
		f := fs.VarPF(&configFlag{typ: s.typ}, s.key, "", s.usage)
		f.DefValue = s.get(def)
	}
}

// LoadConfig builds the effective configuration: defaults, then the YAML file at path, then
// the flags that were set (flags may be nil), then --data-dir for path keys set nowhere else.
// A missing file is an error only when explicit (named by --config). Notice files are hashed
// here; a missing one is recorded in Notice.Err, not returned: see CheckNotices.
func LoadConfig(path string, explicit bool, flags *pflag.FlagSet) (*Config, error) {
	c := DefaultConfig()
	set := map[string]bool{}
	if path != "" {
		f, err := os.Open(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !explicit:
			// The default path need not exist: the defaults then apply.
		case err != nil:
			return nil, consent.Errorf(consent.EINVALID, "config: cannot read %s: %v", path, errors.Unwrap(err))
		default:
			err = checkConfigFile(f, path)
			if err == nil {
				err = decodeConfig(c, io.LimitReader(f, maxConfigSize+1), path, set)
			}
			f.Close()
			if err != nil {
				return nil, err
			}
			c.Source = path
		}
	}
	if flags != nil {
		if err := applyFlags(c, flags, set); err != nil {
			return nil, err
		}
		if f := flags.Lookup("data-dir"); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			// Not "unset": an empty variable in a script would put the data in production's place.
			return nil, consent.Errorf(consent.EINVALID, "--data-dir: %q names no folder: give a folder, or leave the flag out to use the configured paths", f.Value.String())
		} else if f != nil && f.Value.String() != "" {
			applyDataDir(c, f.Value.String(), set)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.absPaths(); err != nil {
		return nil, err
	}
	c.hashNotices()
	return c, nil
}

// maxConfigSize bounds what is read of a configuration file: the complete sample is a few KB,
// and a file that never ends (--config /dev/zero) must not fill the memory.
const maxConfigSize = 1 << 20

// checkConfigFile refuses what cannot be a configuration file before it is read: a folder, a
// device or pipe, or a file larger than maxConfigSize.
func checkConfigFile(f *os.File, path string) error {
	fi, err := f.Stat()
	switch {
	case err != nil:
		return consent.Errorf(consent.EINVALID, "config: cannot read %s: %v", path, errors.Unwrap(err))
	case fi.IsDir():
		return consent.Errorf(consent.EINVALID, "config: %s is a folder: name the YAML file itself, e.g. --config %s", path, filepath.Join(path, "callconsent.yaml"))
	case !fi.Mode().IsRegular():
		return consent.Errorf(consent.EINVALID, "config: %s is not a regular file: name the YAML file", path)
	case fi.Size() > maxConfigSize:
		return consent.Errorf(consent.EINVALID, "config: %s is %d bytes, more than the %d a configuration may have: is it the right file?", path, fi.Size(), maxConfigSize)
	}
	return nil
}

func applyFlags(c *Config, fs *pflag.FlagSet, set map[string]bool) error {
	for _, s := range settings {
		f := fs.Lookup(s.key)
		if f == nil || !f.Changed {
			continue
		}
		cf, ok := f.Value.(*configFlag)
		if !ok {
			return fmt.Errorf("flag --%s is not a configuration flag", s.key)
		}
		if s.multi {
			c.Notices = map[string]Notice{}
		}
		for _, v := range cf.vals {
			if err := s.set(c, v); err != nil {
				return invalidKey(s.key, v, err.Error())
			}
		}
		set[s.key] = true
	}
	return nil
}

func applyDataDir(c *Config, dir string, set map[string]bool) {
	c.DataDir = dir
	for key, name := range dataDirLayout {
		if !set[key] {
			lookupSetting(key).set(c, filepath.Join(dir, name))
		}
	}
	if !set["metrics-listen"] {
		// Trials and tests side by side must not fight over one port: a free one, logged at start.
		c.MetricsListen = trialMetricsListen
	}
	if !set["web-listen"] {
		c.WebListen = trialWebListen
	}
}

// trialMetricsListen is metrics-listen under --data-dir when not set: a free loopback port.
const trialMetricsListen = "127.0.0.1:0"

// decodeConfig applies the keys of a YAML file. It walks the node tree itself rather than
// decoding into a struct so that every error names the key and the value as written.
func decodeConfig(c *Config, r io.Reader, path string, set map[string]bool) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); errors.Is(err, io.EOF) {
		return nil // an empty file: defaults
	} else if err != nil {
		return consent.Errorf(consent.EINVALID, "config: %s is not valid YAML: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return consent.Errorf(consent.EINVALID, "config: %s: want key: value pairs at the top level", path)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		s := lookupSetting(k.Value)
		switch {
		case s == nil:
			return consent.Errorf(consent.EINVALID, "config: unknown key %q (%s line %d)", k.Value, path, k.Line)
		case set[k.Value]:
			return consent.Errorf(consent.EINVALID, "config: key %q given twice (%s line %d)", k.Value, path, k.Line)
		}
		set[k.Value] = true
		if err := decodeValue(c, s, v); err != nil {
			return err
		}
	}
	return nil
}

func decodeValue(c *Config, s *setting, v *yaml.Node) error {
	switch {
	case s.key == "notice":
		return decodeNotices(c, v)
	case s.setList != nil && v.Kind == yaml.SequenceNode:
		var items []string
		for _, p := range v.Content {
			if p.Kind != yaml.ScalarNode {
				return invalidKey(s.key, "", "must be a list of names")
			}
			items = append(items, p.Value)
		}
		return s.setList(c, items)
	case v.Kind != yaml.ScalarNode:
		return invalidKey(s.key, "", "must be a single value")
	case v.Tag == "!!null":
		return invalidKey(s.key, "", "has no value")
	case s.setList != nil:
		example := strings.ReplaceAll(s.get(DefaultConfig()), ",", ", ")
		return invalidKey(s.key, v.Value, "must be a YAML list, e.g. ["+example+"]")
	}
	if err := s.set(c, v.Value); err != nil {
		return invalidKey(s.key, v.Value, err.Error())
	}
	return nil
}

// decodeNotices reads the notice mapping: language → {file, version, invalid-file}, the same
// field names as notices/notices.yaml. The file's notices replace the defaults as a whole, so a
// language can be switched off by leaving it out.
func decodeNotices(c *Config, v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return invalidKey("notice", v.Value, "must map languages to {file, version, invalid-file}")
	}
	c.Notices = map[string]Notice{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		lang, body := v.Content[i].Value, v.Content[i+1]
		if body.Kind != yaml.MappingNode {
			return invalidKey("notice."+lang, body.Value, "must be {file, version, invalid-file}")
		}
		n := Notice{Lang: lang}
		for j := 0; j+1 < len(body.Content); j += 2 {
			k, val := body.Content[j], body.Content[j+1]
			if val.Kind != yaml.ScalarNode {
				return invalidKey("notice."+lang+"."+k.Value, "", "must be a single value")
			}
			switch k.Value {
			case "file":
				n.File = val.Value
			case "version":
				n.Version = val.Value
			case "invalid-file":
				n.InvalidFile = val.Value
			default:
				return consent.Errorf(consent.EINVALID, "config: unknown key %q in notice.%s (line %d)", k.Value, lang, k.Line)
			}
		}
		c.Notices[lang] = n
	}
	return nil
}
