// Package ssm resolves `ssm:/param/name` secret references from AWS Systems
// Manager Parameter Store (SecureString parameters are decrypted). It is
// the only notify package importing the SSM client.
package ssm
