package s3io

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/objstore"
	"github.com/sibyldb/sibyldb/internal/secret"
)

const kindCredential = "storage_credential"

// sealObject is what a credential's sealed secret is bound to.
func sealObject(name string) string { return secret.Object(kindCredential, name) }

// Sealer encrypts secrets at rest (package secret's Box).
type Sealer interface {
	// Seal binds the ciphertext to object (secret.Object).
	Seal(plaintext []byte, object string) (string, error)
	// Open reports legacy for a value sealed before values were bound;
	// it is bound when the credential is next written.
	Open(sealed, object string) (plain []byte, legacy bool, err error)
}

// Credential is a named storage credential: a key pair for the objects
// under Location, used instead of the AWS credential chain.
type Credential struct {
	Name string `json:"name"`
	// Location is the URI prefix the credential applies to
	// ('s3://bucket/', 's3://bucket/prefix', 'https://host/bucket/').
	Location    string `json:"location"`
	AccessKeyID string `json:"access_key_id"`
	Region      string `json:"region,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"`
	// SealedSecret holds the secret access key and session token.
	SealedSecret string `json:"sealed_secret"`

	secret, token string
	// prefix is Location as s3://bucket/key, whatever form it was written in.
	prefix string
	// endpoint is the S3 server the credential is for (canonical
	// scheme://host[:port]): Endpoint, else the host of an
	// https://host/bucket/ Location; empty means AWS or the operator's
	// AWS_ENDPOINT_URL_S3.
	endpoint string
}

// bind fills the derived fields from Location and Endpoint.
func (cr *Credential) bind() error {
	loc, err := objstore.ParseURI(cr.Location)
	if err != nil {
		return err
	}
	cr.prefix = canonical(loc)
	cr.endpoint = objstore.CanonicalEndpoint(cr.Endpoint)
	if cr.endpoint == "" {
		cr.endpoint = objstore.CanonicalEndpoint(loc.Endpoint)
	}
	return nil
}

// canonical writes an S3 location as s3://bucket/key.
func canonical(loc objstore.Location) string { return "s3://" + loc.Bucket + "/" + loc.Key }

type credentialSecret struct {
	Secret string `json:"secret"`
	Token  string `json:"token,omitempty"`
}

// ErrCredentialExists is returned by Put for an existing name without
// OR REPLACE.
var ErrCredentialExists = errors.New("storage credential already exists")

// CredentialStore keeps named storage credentials in the catalog with
// their secrets sealed, and finds the one a URI uses.
type CredentialStore struct {
	Catalog *catalog.Store
	Secrets Sealer

	mu     sync.RWMutex
	byName map[string]*Credential
}

// Load reads the stored credentials at start-up.
func (c *CredentialStore) Load(ctx *sql.Context) error {
	objs, err := c.Catalog.List(ctx, kindCredential)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byName = map[string]*Credential{}
	for _, o := range objs {
		cr := &Credential{}
		if err := json.Unmarshal([]byte(o.Definition), cr); err != nil {
			return fmt.Errorf("stored storage credential %s: %w", o.Name, err)
		}
		if err := c.unseal(cr); err != nil {
			return fmt.Errorf("stored storage credential %s: %w", o.Name, err)
		}
		if err := cr.bind(); err != nil {
			return fmt.Errorf("stored storage credential %s: %w", o.Name, err)
		}
		c.byName[strings.ToLower(cr.Name)] = cr
	}
	return nil
}

func (c *CredentialStore) unseal(cr *Credential) error {
	if c.Secrets == nil {
		return errors.New("no secret key is configured")
	}
	plain, _, err := c.Secrets.Open(cr.SealedSecret, sealObject(cr.Name))
	if err != nil {
		return err
	}
	var s credentialSecret
	if err := json.Unmarshal(plain, &s); err != nil {
		return err
	}
	cr.secret, cr.token = s.Secret, s.Token
	return nil
}

// Put stores a credential in the statement's transaction.
func (c *CredentialStore) Put(ctx *sql.Context, cr Credential, secret, token string, orReplace bool) error {
	loc, err := objstore.ParseURI(cr.Location)
	if err != nil || loc.Scheme == "file" {
		return fmt.Errorf("storage credential location '%s' is not an S3 URI prefix (s3://bucket/prefix)", cr.Location)
	}
	if err := cr.bind(); err != nil {
		return err
	}
	if cr.AccessKeyID == "" || secret == "" {
		return errors.New("a storage credential needs ACCESS_KEY_ID and SECRET_ACCESS_KEY")
	}
	if c.Secrets == nil {
		return errors.New("storage credentials need a secret key to be stored")
	}
	plain, _ := json.Marshal(credentialSecret{Secret: secret, Token: token})
	sealed, err := c.Secrets.Seal(plain, sealObject(cr.Name))
	if err != nil {
		return fmt.Errorf("seal storage credential: %w", err)
	}
	cr.SealedSecret, cr.secret, cr.token = sealed, secret, token
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil {
		c.byName = map[string]*Credential{}
	}
	k := strings.ToLower(cr.Name)
	if _, ok := c.byName[k]; ok && !orReplace {
		return fmt.Errorf("storage credential '%s': %w", cr.Name, ErrCredentialExists)
	}
	def, _ := json.Marshal(cr)
	if err := c.Catalog.Put(ctx, catalog.Object{Kind: kindCredential, Name: k, Definition: string(def)}); err != nil {
		return err
	}
	c.byName[k] = &cr
	return nil
}

// Drop removes a credential; found is false when none has the name.
func (c *CredentialStore) Drop(ctx *sql.Context, name string) (found bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := strings.ToLower(name)
	if _, ok := c.byName[k]; !ok {
		return false, nil
	}
	if _, err := c.Catalog.Delete(ctx, kindCredential, k); err != nil {
		return true, err
	}
	delete(c.byName, k)
	return true, nil
}

// List returns the credentials ordered by name (secrets stay inside).
func (c *CredentialStore) List() []Credential {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Credential, 0, len(c.byName))
	for _, cr := range c.byName {
		out = append(out, *cr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Match returns the credentials of the longest location that prefixes
// loc (compared as s3://bucket/key) and that are for the server loc names,
// or nil for the AWS chain. A URI naming a host (https://host/bucket/key)
// gets only a credential bound to that host: a key is never sent to a
// server its credential does not name. A URI without one (s3://bucket/key)
// goes to the credential's own endpoint.
func (c *CredentialStore) Match(loc objstore.Location) *objstore.Credentials {
	if c == nil || loc.Scheme == "file" {
		return nil
	}
	key := canonical(loc)
	host := objstore.CanonicalEndpoint(loc.Endpoint)
	c.mu.RLock()
	defer c.mu.RUnlock()
	var best *Credential
	for _, cr := range c.byName {
		if host != "" && cr.endpoint != host {
			continue
		}
		if strings.HasPrefix(key, cr.prefix) && (best == nil || len(cr.prefix) > len(best.prefix)) {
			best = cr
		}
	}
	if best == nil {
		return nil
	}
	return &objstore.Credentials{AccessKeyID: best.AccessKeyID, SecretAccessKey: best.secret, SessionToken: best.token,
		Region: best.Region, Endpoint: best.endpoint}
}

// NamesEndpoint reports whether a credential is bound to endpoint (a
// canonical scheme://host[:port]).
func (c *CredentialStore) NamesEndpoint(endpoint string) bool {
	if c == nil || endpoint == "" {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, cr := range c.byName {
		if cr.endpoint == endpoint {
			return true
		}
	}
	return false
}
