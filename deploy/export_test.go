package deploy

// Covers is covers, for the tests that check it against EventBridge matching.
var Covers = covers
