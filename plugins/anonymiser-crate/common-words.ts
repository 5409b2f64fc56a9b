// Ordinary English words that streets and towns are commonly named after ("Hope Street", "Mill
// Lane", "Park Road", the towns of March, Reading and Street). Address components made only of
// such words are "decoy-guarded": they are scrubbed only where written with capitals, as
// names are, so the ordinary word in "there is hope" or "reading the letter" stays. The
// operator's allowlist extends this list. Kept short and specific to places on purpose: a
// general English dictionary would guard street names (Beechcroft) that are no ordinary word.

const WORDS = `
abbey acre acres acorn alder allotment almond amber anchor angel apple arch
ash aspen autumn back bailey bakers bank banks bar barley barn barns barrack bath bay beach beacon
bear beck bee beech bell belle belmont bend berry birch bishop black blackbird blossom blue boat bog
bourne bow box bracken bramble branch brewery briar brick bridge bright brink broad brook brow brown
bull burn bush butcher butts cambridge camp canal canon carpenter carr castle cattle causeway cedar
chalk chapel charter chase cherry chestnut church circle clay cliff clock cloister clover coach coal
cold college common copse corn corner cottage county court cow cress croft cromwell cross crown
dale dam dawn deal deer dell derby dene dove down downs drove duke dyke eagle earl east edge elder
elm end fair falcon farm fen fern ferry field fields fir fish fisher flag fleet folly ford forest
forge fort fountain fox friar friars frog garden gate gates glebe glen gold golden good goose gorse
grace grange granite grass great green greens grove guild hall hamlet harbour hare harvest hatch
haven hawk hawthorn hay hazel head heath heather hedge high highfield hill hills hollow holly home
honey hope horse house hunt hunter ivy jubilee keep kennel king kings kingfisher knight knoll lake
lamb land lark laurel lavender lea leafy lee lime link links lion little lock lodge long lord low
lower mac magpie maiden main mall manor maple march mariner market marsh mary mast may mayfair
meadow meadows mere middle mill millers mills mint moat monks moor moss mount mountain mulberry
myrtle nelson new north nursery nut oak oaks oat old orchard otter owl paddock palace park parish
parsonage pasture pear pebble pine pinfold pit plain plough pond pool poplar poppy port post pound
priest prince princess priory prospect pump quarry quay queen queens rail railway raven reading
rectory red reed regent ridge river robin rock rope rose rosemary round rowan royal rush rye saddle
saint sand sands school sea seaview shady sheep shepherd ship shire shore silver skinner slade
smith smithy south spa spring springs spruce square stable stag star station steep stile stock
stone stony street summer sun sunny swallow swan sycamore tall tan tanner temple thistle thorn
tithe top tower town trinity tudor union upper valley vicarage victoria view village vine violet
walnut warren water waterside weaver well wells west wharf wheat white willow willows wind windmill
windsor winter wood woodland woods worth wren yard yew york young
`;

/** Lower-case ordinary words used in street and town names. */
export const COMMON_PLACE_WORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter(Boolean));
