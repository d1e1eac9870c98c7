package lookup

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
)

// AllRegions in Options.Regions stands for every region enabled in each
// account, discovered with account:ListRegions when the source starts.
const AllRegions = "all"

// regionsAPI is the part of the Account Management client the source uses.
type regionsAPI interface {
	ListRegions(ctx context.Context, in *account.ListRegionsInput, opts ...func(*account.Options)) (*account.ListRegionsOutput, error)
}

// enabledRegions lists the regions enabled in the account of c's
// credentials (opted in, or enabled by default), sorted, following every
// page (the API returns at most 50 a page).
func enabledRegions(ctx context.Context, c regionsAPI) ([]string, error) {
	in := &account.ListRegionsInput{
		MaxResults:              aws.Int32(50),
		RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault},
	}
	var out []string
	for {
		page, err := c.ListRegions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("lookup: list enabled regions: %w", err)
		}
		for _, r := range page.Regions {
			if name := aws.ToString(r.RegionName); name != "" {
				out = append(out, name)
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lookup: list enabled regions: the account reports none")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// regionsOf returns the regions to poll in the account of cfg: the
// configured list, or the enabled regions when it holds AllRegions.
func (s *Source) regionsOf(ctx context.Context, cfg aws.Config) ([]string, error) {
	if !slices.Contains(s.o.Regions, AllRegions) {
		return s.o.Regions, nil
	}
	c := account.NewFromConfig(cfg, func(o *account.Options) { o.Region = HomeRegion })
	return enabledRegions(ctx, c)
}
